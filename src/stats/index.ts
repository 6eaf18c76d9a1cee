// Time in range and the other consensus CGM metrics: one computation, one shape for every host.
export { computeStatistics, CONSENSUS, STATISTICS_FIELDS, type GlucoseStatistics } from './statistics';
export { ReadingHistory } from './history';
export { StatisticsKeeper, statisticsKeeper, STATISTICS_REFRESH_MS } from './keeper';
