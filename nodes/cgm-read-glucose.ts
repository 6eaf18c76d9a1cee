import { CgmError, toCgmError } from '../src/model/errors';
import type { Account } from './lib/account';
import type { GlucoseReading } from '../src/model/reading';
import { findAccount } from './lib/host';
import { follow, type Following } from './lib/follow';
import { HomeAssistantOutput } from './lib/home-assistant';
import { optionalText, positiveInt, putHistory, putReading } from './lib/messages';
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
}

/** cgm-read-glucose: latest, history or poll, with an optional Home Assistant output. */
export = function register(RED: NodeAPI): void {
  function CgmReadGlucoseNode(this: Node, def: ReadDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: ReadDef): void {
    const mode = def.mode === 'history' || def.mode === 'poll' ? def.mode : 'latest';
    const account = findAccount(RED, 'cgm-read-glucose', def.account);
    if (account instanceof CgmError) {
      refuseInput(node, account);
      return;
    }
    const unit = account.unit;
    const staleMinutes = positiveInt(def.staleMinutes, 15);
    let ha: HomeAssistantOutput | undefined;
    try {
      if (def.homeAssistant === true)
        ha = new HomeAssistantOutput(haName(def, account), account, staleMinutes);
    } catch (thrown) {
      refuseInput(node, toCgmError(thrown));
      return;
    }
    const module = account.provider === 'vitadock' ? optionalText(def.module) : undefined;
    const subjectOf = (msg: NodeMessage): string | undefined =>
      optionalText(msg.subject) ?? optionalText(def.subject);
    /** Output 1, and output 2 with the Home Assistant messages when that option is on. */
    const out = (send: NodeSend, main: NodeMessage | null, reading?: GlucoseReading, stale = false): void => {
      if (!ha) send(main);
      else send([main, reading ? ha.messages(reading, stale) : null]);
    };

    let following: Following | undefined;
    if (mode === 'poll') {
      following = follow(
        node,
        account,
        { subject: optionalText(def.subject), staleMinutes },
        {
          staleText: RED._('cgm-read-glucose.status.stale'),
          reading: (reading) => out((m) => node.send(m), putReading({}, reading, unit), reading),
          stale: (info) => {
            if (ha && info.last) node.send([null, ha.messages(info.last, true)]);
          },
        },
      );
    }

    node.on('input', (msg, send, done) => {
      guardInput(node, done, async () => {
        if (ha && HomeAssistantOutput.isBirth(msg)) {
          send([null, ha.rediscover()]);
        } else if (following) {
          await following.pollNow();
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
        } else if (mode === 'history') {
          const subject = subjectOf(msg);
          const minutes = positiveInt(msg.minutes, positiveInt(def.minutes, 60));
          const source = await account.source();
          const readings = await source.history(subject === undefined ? { minutes } : { minutes, subject });
          const last = readings[readings.length - 1];
          out(send, putHistory(msg, readings, unit, subject), last);
          node.status(last ? readingStatus(last, unit) : { fill: 'yellow', shape: 'ring', text: '0' });
        } else {
          const source = await account.source();
          const reading = await source.latest(subjectOf(msg));
          if (!reading) throw new CgmError('NO_DATA', RED._('cgm-read-glucose.errors.no-data'));
          out(send, putReading(msg, reading, unit), reading);
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

/** The Home Assistant device name: the node's name, else the account's, else the cloud's. */
function haName(def: ReadDef, account: Account): string {
  const names = {
    dexcom: 'Dexcom',
    librelinkup: 'LibreLinkUp',
    nightscout: 'Nightscout',
    vitadock: 'VitaDock',
  };
  return optionalText(def.name) ?? optionalText(account.props.name) ?? names[account.provider];
}
