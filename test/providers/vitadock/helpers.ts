import { vitaDockConfigSchema, type VitaDockConfig } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import type { Logger } from '../../../src/model/logger';
import { VitaDockClient, type VitaDockClientOptions } from '../../../src/providers/vitadock/client';
import { Simulator } from '../../../src/simulator/server';
import {
  VITADOCK_DEMO,
  VitaDockSimulator,
  type VitaDockSimulatorOptions,
} from '../../../src/simulator/vitadock';

export const APP = { key: 'test-app-key-0001', secret: 'test-app-secret-0001' };

export interface Harness {
  sim: Simulator;
  vitadock: VitaDockSimulator;
  server: string;
  close(): Promise<void>;
}

/** A running simulator with the demo application and a test application without callback URL. */
export async function startVitaDock(options: VitaDockSimulatorOptions = {}): Promise<Harness> {
  const vitadock = new VitaDockSimulator({
    consumers: [
      { key: VITADOCK_DEMO.consumerKey, secret: VITADOCK_DEMO.consumerSecret },
      { key: APP.key, secret: APP.secret },
    ],
    historyDays: 3,
    ...options,
  });
  const sim = new Simulator({ providers: [vitadock] });
  await sim.listen();
  return { sim, vitadock, server: sim.urlFor('vitadock'), close: () => sim.close() };
}

export function demoConfig(server: string, extra: Partial<VitaDockConfig> = {}): VitaDockConfig {
  return vitaDockConfigSchema.parse({
    provider: 'vitadock',
    server,
    consumerKey: VITADOCK_DEMO.consumerKey,
    consumerSecret: VITADOCK_DEMO.consumerSecret,
    accessToken: VITADOCK_DEMO.accessToken,
    accessSecret: VITADOCK_DEMO.accessSecret,
    ...extra,
  });
}

export function appConfig(server: string, extra: Partial<VitaDockConfig> = {}): VitaDockConfig {
  return vitaDockConfigSchema.parse({
    provider: 'vitadock',
    server,
    consumerKey: APP.key,
    consumerSecret: APP.secret,
    ...extra,
  });
}

/** A logger that keeps every line, to prove no secret reaches it. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string) => lines.push(message);
  return { lines, debug: push, info: push, warn: push, error: push };
}

export function makeClient(config: VitaDockConfig, options: VitaDockClientOptions = {}): VitaDockClient {
  return new VitaDockClient(config, {
    transport: new HttpTransport({ timeoutMs: 2_000, ...(options.logger ? { logger: options.logger } : {}) }),
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

/** Resolves a thrown promise to its error (fails when it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; hint?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; hint?: string };
  }
  throw new Error('expected a rejection');
}
