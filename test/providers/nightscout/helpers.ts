import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nightscoutConfigSchema, type NightscoutConfig } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import { NightscoutClient, type NightscoutClientOptions } from '../../../src/providers/nightscout/client';
import {
  NIGHTSCOUT_DEMO_SITES,
  NightscoutSimulator,
  type NightscoutSimulatorOptions,
} from '../../../src/simulator/nightscout';
import type { NightscoutSiteSpec } from '../../../src/simulator/nightscout-sites';
import { Simulator } from '../../../src/simulator/server';
import { FAST_RETRY, MemoryLogger } from '../helpers';

export { FAST_RETRY, MemoryLogger, rejection } from '../helpers';

export const FIXTURES = join(__dirname, 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixture(name)) as unknown;
}

export function demoSite(name: string): NightscoutSiteSpec {
  const site = NIGHTSCOUT_DEMO_SITES.find((s) => s.site === name);
  if (!site) throw new Error(`no demo site ${name}`);
  return site;
}

/** The read-only token of a demo site. */
export function readToken(name: string): string {
  return demoSite(name).tokens.find((t) => t.roles.includes('readable'))!.token;
}

/** The token of a demo site that may upload. */
export function uploadToken(name: string): string {
  return demoSite(name).tokens.find((t) => t.roles.includes('admin'))!.token;
}

export interface NightscoutRig {
  sim: Simulator;
  nightscout: NightscoutSimulator;
  url: string;
  /** The `server` of a demo site. */
  server(site: string): string;
  client(
    config: Partial<NightscoutConfig> & { site?: string },
    options?: NightscoutClientOptions,
  ): { client: NightscoutClient; logger: MemoryLogger };
  close(): Promise<void>;
}

export async function startNightscout(options: NightscoutSimulatorOptions = {}): Promise<NightscoutRig> {
  const nightscout = new NightscoutSimulator(options);
  const sim = new Simulator({ providers: [nightscout] });
  const url = await sim.listen();
  const server = (site: string) => `${url}/nightscout/${site}`;
  return {
    sim,
    nightscout,
    url,
    server,
    client: ({ site = 'leo', ...config }, clientOptions = {}) => {
      const logger = new MemoryLogger();
      const parsed = nightscoutConfigSchema.parse({
        provider: 'nightscout',
        server: server(site),
        ...config,
      });
      const client = new NightscoutClient(parsed, {
        logger,
        retry: FAST_RETRY,
        transport: new HttpTransport({ timeoutMs: 1_000, logger }),
        ...clientOptions,
      });
      return { client, logger };
    },
    close: () => sim.close(),
  };
}

/** A fixture served as an answer, its status taken from the file name (`*.401.json` → 401). */
export function fromFixture(name: string): { status: number; body: string } {
  const status = /\.(\d{3})\.json$/.exec(name)?.[1];
  return { status: status ? Number(status) : 200, body: fixture(name) };
}
