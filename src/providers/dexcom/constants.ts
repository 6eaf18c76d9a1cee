import type { DexcomRegion } from '../../config';
import type { Cadence } from '../provider';
import { DEXCOM_TREND_BY_CODE, type Trend } from '../../model/trend';

/** The application id Dexcom's own apps send in the US and outside it. */
export const DEXCOM_APPLICATION_ID = 'd89443d2-327c-4a6f-89e5-496bbb0317db';
/** Japan (share.dexcom.jp) accepts only its own application id. */
export const DEXCOM_JP_APPLICATION_ID = 'd8665ade-9673-4e27-9ff6-92db4ce13d13';

export interface DexcomRegionInfo {
  origin: string;
  applicationId: string;
  /** Where the accounts of this region come from, for hints. */
  label: string;
}

export const DEXCOM_REGION_INFO: Readonly<Record<DexcomRegion, DexcomRegionInfo>> = {
  us: {
    origin: 'https://share2.dexcom.com',
    applicationId: DEXCOM_APPLICATION_ID,
    label: 'the United States',
  },
  ous: {
    origin: 'https://shareous1.dexcom.com',
    applicationId: DEXCOM_APPLICATION_ID,
    label: 'outside the US and Japan (Europe, Canada, Australia, …)',
  },
  jp: {
    origin: 'https://share.dexcom.jp',
    applicationId: DEXCOM_JP_APPLICATION_ID,
    label: 'Japan and Singapore',
  },
};

/** Appended to a region origin or a custom server. */
export const SERVICES_PATH = '/ShareWebServices/Services';

/** The base every endpoint is appended to: the region's host, or a custom server (origin + optional prefix). */
export function dexcomServicesUrl(region: DexcomRegion, server?: string): string {
  const origin = server ? server.replace(/\/+$/, '') : DEXCOM_REGION_INFO[region].origin;
  return `${origin}${SERVICES_PATH}`;
}

/** Every endpoint GlucoBridge calls, relative to the services URL. */
export const ENDPOINTS = {
  authenticate: 'General/AuthenticatePublisherAccount',
  loginById: 'General/LoginPublisherAccountById',
  systemUtcTime: 'General/SystemUtcTime',
  readLatest: 'Publisher/ReadPublisherLatestGlucoseValues',
  checkReceiver: 'Publisher/CheckMonitoredReceiverAssignmentStatus',
  replaceReceiver: 'Publisher/ReplacePublisherAccountMonitoredReceiver',
  isMonitoringActive: 'Publisher/IsRemoteMonitoringSessionActive',
  startMonitoring: 'Publisher/StartRemoteMonitoringSession',
  stopMonitoring: 'Publisher/StopRemoteMonitoringSession',
  updateRuntimeInfo: 'Publisher/UpdatePublisherAccountRuntimeInfo',
  postEgvs: 'Publisher/PostReceiverEgvRecords',
  listSubscriptions: 'Publisher/ListPublisherAccountSubscriptions',
  contactExists: 'Publisher/DoesContactExistByName',
  createContact: 'Publisher/CreateContact',
  createInvitation: 'Publisher/CreateSubscriptionInvitation',
  deleteContact: 'Publisher/DeleteContact',
} as const;

export type DexcomEndpoint = (typeof ENDPOINTS)[keyof typeof ENDPOINTS];

/** The "no id" Dexcom answers instead of an error in some failed logins: never a usable id. */
export const NULL_UUID = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The read window the API serves (24 h) and its record cap (one per 5 minutes). */
export const MAX_MINUTES = 1440;
export const MAX_COUNT = 288;

/** No new login after Dexcom reports too many attempts, for at least this long. */
export const LOCKOUT_MS = 15 * 60_000;

export const DEXCOM_CADENCE: Cadence = {
  readingIntervalMs: 5 * 60_000,
  latestIntervalMs: 5 * 60_000,
  lagMs: 20_000,
  maxHistoryMinutes: MAX_MINUTES,
  continuous: true,
};

/** Dexcom's own trend names, index = trend code (the wire form since late 2021). */
export const DEXCOM_TREND_NAMES: readonly string[] = [
  'None',
  'DoubleUp',
  'SingleUp',
  'FortyFiveUp',
  'Flat',
  'FortyFiveDown',
  'SingleDown',
  'DoubleDown',
  'NotComputable',
  'RateOutOfRange',
];

/** Our trend as Dexcom names it on the wire. */
export function dexcomTrendName(trend: Trend): string {
  return DEXCOM_TREND_NAMES[DEXCOM_TREND_BY_CODE.indexOf(trend)] ?? 'NotComputable';
}
