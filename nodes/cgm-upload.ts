import { z } from 'zod';
import { CgmError } from '../src/model/errors';
import { TRENDS, type Trend } from '../src/model/trend';
import { DEFAULT_UPLOAD_SPACING_MS, type UploadReading } from '../src/providers/dexcom/publisher';
import { onAccountInput } from './lib/host';
import { payloadProblem } from './lib/payload';
import { refuseInput } from './lib/status';
import type { Node, NodeAPI, NodeDef } from './lib/types';

interface UploadDef extends NodeDef {
  account?: string;
  /** Least seconds between two uploaded readings (blank: 285, i.e. 4 min 45 s). */
  spacing?: unknown;
}

/**
 * A reading as cgm-read-glucose sends it (msg.reading or an item of a history payload). Without a
 * time it is a reading of now, stamped by this machine's clock.
 */
const readingSchema = z.object({
  time: z.union([z.string(), z.number(), z.date()]).optional(),
  mgdl: z.number().positive(),
  trend: z.enum(TRENDS as [Trend, ...Trend[]]).optional(),
});
const payloadSchema = z.union([readingSchema, z.array(readingSchema).min(1)]);

/** cgm-upload: relays readings from any source to a Dexcom Share account as its publisher. */
export = function register(RED: NodeAPI): void {
  function CgmUploadNode(this: Node, def: UploadDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: UploadDef): void {
    const spacingMs = spacingOf(def.spacing);
    if (spacingMs instanceof CgmError) {
      refuseInput(node, spacingMs);
      return;
    }
    onAccountInput(RED, node, 'cgm-upload', def.account, async (account, msg, send) => {
      // From cgm-read-glucose: a history array in payload, or one reading in msg.reading (payload = value).
      const input = msg.payload !== null && typeof msg.payload === 'object' ? msg.payload : msg.reading;
      const problem = payloadProblem(input);
      if (problem) {
        // Out of the message before it fails: Catch nodes get a copy Node-RED can make.
        msg.payload = null;
        delete msg.reading;
        throw new CgmError('CONFIG', `${RED._('cgm-upload.errors.bad-payload')} (${problem})`);
      }
      const readings = parseReadings(input);
      const publisher = await account.publisher(RED._('cgm-upload.errors.not-dexcom'));
      const result = await publisher.upload(readings, { spacingMs });
      msg.payload = {
        uploaded: result.uploaded,
        skipped: result.skipped,
        lastUploaded: result.lastUploaded?.toISOString() ?? null,
      };
      const skipped = result.skipped > 0 ? ` · ${result.skipped} ${RED._('cgm-upload.status.skipped')}` : '';
      node.status({ fill: 'green', shape: 'dot', text: `↑ ${result.uploaded}${skipped}` });
      send(msg);
    });

    function parseReadings(payload: unknown): UploadReading[] {
      const parsed = payloadSchema.safeParse(payload);
      const now = Date.now();
      const readings = parsed.success
        ? [parsed.data].flat().map((r): UploadReading => {
            const stamped = r.time === undefined;
            return {
              time: new Date(stamped ? now : r.time!),
              mgdl: r.mgdl,
              ...(r.trend ? { trend: r.trend } : {}),
              ...(stamped ? { hostClock: true } : {}),
            };
          })
        : undefined;
      if (!readings || readings.some((r) => Number.isNaN(r.time.getTime()))) {
        throw new CgmError('CONFIG', RED._('cgm-upload.errors.bad-payload'));
      }
      return readings;
    }

    /** The node's spacing in ms (blank: the default), or CONFIG. */
    function spacingOf(value: unknown): number | CgmError {
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      if (text === '') return DEFAULT_UPLOAD_SPACING_MS;
      const seconds = Number(text);
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) {
        return new CgmError('CONFIG', RED._('cgm-upload.errors.bad-spacing'));
      }
      return seconds * 1000;
    }
  }
  RED.nodes.registerType('cgm-upload', CgmUploadNode);
};
