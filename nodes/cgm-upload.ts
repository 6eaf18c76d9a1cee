import { z } from 'zod';
import { CgmError } from '../src/model/errors';
import { TRENDS, type Trend } from '../src/model/trend';
import type { UploadReading } from '../src/providers/dexcom/publisher';
import { onAccountInput } from './lib/host';
import { payloadProblem } from './lib/payload';
import type { Node, NodeAPI, NodeDef } from './lib/types';

/** A reading as cgm-read-glucose sends it (msg.reading or an item of a history payload). */
const readingSchema = z.object({
  time: z.union([z.string(), z.number(), z.date()]).transform((t) => new Date(t)),
  mgdl: z.number().positive(),
  trend: z.enum(TRENDS as [Trend, ...Trend[]]).optional(),
});
const payloadSchema = z.union([readingSchema, z.array(readingSchema).min(1)]);

/** cgm-upload: relays readings from any source to a Dexcom Share account as its publisher. */
export = function register(RED: NodeAPI): void {
  function CgmUploadNode(this: Node, def: NodeDef & { account?: string }): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: NodeDef & { account?: string }): void {
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
      const result = await publisher.upload(readings);
      msg.payload = {
        sent: result.sent,
        skipped: result.skipped,
        lastUploaded: result.lastUploaded?.toISOString() ?? null,
      };
      node.status({ fill: 'green', shape: 'dot', text: `↑ ${result.sent}` });
      send(msg);
    });

    function parseReadings(payload: unknown): UploadReading[] {
      const parsed = payloadSchema.safeParse(payload);
      if (!parsed.success || [parsed.data].flat().some((r) => Number.isNaN(r.time.getTime()))) {
        throw new CgmError('CONFIG', RED._('cgm-upload.errors.bad-payload'));
      }
      return [parsed.data].flat().map((r) => (r.trend ? r : { time: r.time, mgdl: r.mgdl }));
    }
  }
  RED.nodes.registerType('cgm-upload', CgmUploadNode);
};
