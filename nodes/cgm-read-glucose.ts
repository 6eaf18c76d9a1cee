import { describeIssues, thresholdsSchema, type Thresholds } from '../src/config';
import type { SubjectState } from '../src/follow/subject-state';
import { CgmError, toCgmError } from '../src/model/errors';
import { findAccount } from './lib/host';
import { follow, type Following } from './lib/follow';
import { HomeAssistantOutput } from './lib/home-assistant';
import { optionalText, positiveInt, putHistory, putReading, putSensor } from './lib/messages';
import { putStatistics, statisticsStatus } from './lib/statistics';
import { statisticsKeeper, type StatisticsKeeper } from '../src/stats/keeper';
import { guardInput, readingStatus, refuseInput } from './lib/status';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeSend } from './lib/types';
import { readModule } from './lib/vitadock-read';

interface ReadDef extends NodeDef {
  account?: string;
  mode?: string;
  minutes?: unknown;
  staleMinutes?: unknown;
  subject?: string;
  homeAssistant?: boolean;
  module?: string;
  /** Home Assistant output limits in mg/dL (blank: 55, 70, 180). */
  urgentLow?: unknown;
  low?: unknown;
  high?: unknown;
}

/** cgm-read-glucose: latest, history or poll, with an optional Home Assistant output. */
export = function register(RED: NodeAPI): void {
  function CgmReadGlucoseNode(this: Node, def: ReadDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: ReadDef): void {
    const mode =
      def.mode === 'history' || def.mode === 'poll' || def.mode === 'statistics' ? def.mode : 'latest';
    const account = findAccount(RED, 'cgm-read-glucose', def.account);
    if (account instanceof CgmError) {
      refuseInput(node, account);
      return;
    }
    const unit = account.unit;
    const staleMinutes = positiveInt(def.staleMinutes, 15);
    const thresholds = nodeThresholds(def);
    if (thresholds instanceof CgmError) {
      refuseInput(node, thresholds);
      return;
    }
    let ha: HomeAssistantOutput | undefined;
    // Follow mode: the Home Assistant state carries the person's statistics (the day loaded once).
    let keeper: StatisticsKeeper | undefined;
    try {
      if (def.homeAssistant === true)
        ha = new HomeAssistantOutput(optionalText(def.name), account, staleMinutes, thresholds, (subject) =>
          keeper?.fresh(subject),
        );
    } catch (thrown) {
      refuseInput(node, toCgmError(thrown));
      return;
    }
    const module = account.provider === 'vitadock' ? optionalText(def.module) : undefined;
    const subjectOf = (msg: NodeMessage): string | undefined =>
      optionalText(msg.subject) ?? optionalText(def.subject);
    /** Output 1, and output 2 with the Home Assistant messages when that option is on. */
    const out = (send: NodeSend, main: NodeMessage | null, subject?: SubjectState): void => {
      if (!ha) send(main);
      else send([main, subject ? ha.messages(subject) : null]);
    };

    let following: Following | undefined;
    if (mode === 'poll') {
      following = follow(
        node,
        account,
        { subject: optionalText(def.subject), staleMinutes },
        {
          staleText: RED._('cgm-read-glucose.status.stale'),
          reading: (reading, subject) => {
            if (keeper) void keeper.statistics(subject).catch(() => undefined);
            out((m) => node.send(m), putReading({}, reading, unit, subject), subject);
          },
          status: (subject) => {
            if (ha) node.send([null, ha.messages(subject)]);
          },
        },
      );
    }

    if (ha && mode === 'poll') {
      account.follower().then(
        (follower) => (keeper = statisticsKeeper(follower)),
        () => undefined,
      );
    }

    node.on('input', (msg, send, done) => {
      guardInput(node, done, async () => {
        if (ha && HomeAssistantOutput.isBirth(msg)) {
          send([null, ha.rediscover()]);
        } else if (following) {
          // A failure of this poll goes to Catch with this message (and `done` says it failed).
          const problem = await following.pollNow();
          if (problem) throw problem;
        } else if (module && module !== 'glucodockglucoses') {
          msg.payload = await readModule(
            account,
            module,
            mode,
            positiveInt(msg.minutes, positiveInt(def.minutes, 60)),
          );
          msg.topic = module;
          send(msg);
          node.status({ fill: 'green', shape: 'dot', text: module });
        } else if (mode === 'statistics') {
          const follower = await account.follower();
          const subject = await follower.resolve(subjectOf(msg));
          const statistics = await statisticsKeeper(follower).statistics(subject);
          if (!statistics) throw new CgmError('CONFIG', RED._('cgm-read-glucose.errors.no-statistics'));
          out(send, putStatistics(msg, statistics, unit, subject.id));
          node.status(statisticsStatus(statistics));
        } else if (mode === 'history') {
          const follower = await account.follower();
          const subject = await follower.resolve(subjectOf(msg));
          const minutes = positiveInt(msg.minutes, positiveInt(def.minutes, 60));
          const readings = await follower.history(subject, minutes);
          const last = readings[readings.length - 1];
          putSensor(putHistory(msg, readings, unit, subject.id), subject);
          out(send, msg, last ? subject : undefined);
          node.status(last ? readingStatus(last, unit) : { fill: 'yellow', shape: 'ring', text: '0' });
        } else {
          const follower = await account.follower();
          const subject = await follower.resolve(subjectOf(msg));
          const reading = await follower.latest(subject);
          if (!reading) throw new CgmError('NO_DATA', RED._('cgm-read-glucose.errors.no-data'));
          out(send, putReading(msg, reading, unit, subject), subject);
          node.status(readingStatus(reading, unit));
        }
        done();
      });
    });

    node.on('close', (_removed, done) => {
      if (!following) return done();
      following.stop().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType('cgm-read-glucose', CgmReadGlucoseNode);
};

/** The Home Assistant output's limits (mg/dL): the node's own, else the core's defaults. */
function nodeThresholds(def: ReadDef): Thresholds | CgmError {
  const limit = (value: unknown): number | undefined =>
    typeof value === 'number' ? value : optionalText(value) === undefined ? undefined : Number(value);
  const given = Object.fromEntries(
    (['urgentLow', 'low', 'high'] as const).flatMap((key) => {
      const value = limit(def[key]);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const parsed = thresholdsSchema.safeParse(given);
  return parsed.success ? parsed.data : new CgmError('CONFIG', describeIssues(parsed.error));
}
