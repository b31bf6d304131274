/**
 * Shared setup for the OneDrive integration tests: a Graph simulator in a temp dir, a logger whose lines are
 * captured (to check that no token or upload URL is ever logged), a virtual clock whose sleeps return at once but
 * advance time (so Retry-After and lock windows are honoured without waiting), and random test files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createOneDriveDestination, type OneDriveDestinationOptions } from '../../src/destinations/onedrive/index.js';
import type { Clock, Sleep } from '../../src/shared/clock.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { createRedactor, type Redactor } from '../../src/shared/redact.js';
import type { RetryPolicy } from '../../src/shared/retry.js';
import type { DeliveryContext, FinishedFile } from '../../src/contracts/ports.js';
import {
  startGraphSimulator,
  type GraphSimulator,
  type GraphSimulatorOptions,
} from '../../src/simulators/graph/index.js';

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const CLIENT_ID = '66666666-7777-8888-9999-000000000000';
export const CLIENT_SECRET = 'sim-secret-Value~123456789';

export const FAST_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 300_000,
  maxTotalMs: 600_000,
};

export interface Harness {
  readonly sim: GraphSimulator;
  readonly dir: string;
  readonly logs: string[];
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  /** Every delay the code asked to sleep, in ms. */
  readonly sleeps: number[];
  /** Called at each sleep (e.g. to abort a run mid-upload). */
  onSleep: ((ms: number) => void) | undefined;
  makeFile(bytes: number, name?: string): Promise<FinishedFile & { data: Buffer }>;
  options(overrides?: Partial<OneDriveDestinationOptions>): OneDriveDestinationOptions;
  destination(overrides?: Partial<OneDriveDestinationOptions>): ReturnType<typeof createOneDriveDestination>;
  context(signal?: AbortSignal): DeliveryContext;
  close(): Promise<void>;
}

export async function startHarness(simOptions: Partial<GraphSimulatorOptions> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'onedrive-it-'));
  const sim = await startGraphSimulator({
    storageDir: join(dir, 'sim'),
    tenantId: TENANT,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
    ...simOptions,
  });
  const logs: string[] = [];
  const redactor = createRedactor([CLIENT_SECRET]);
  const logger = createLogger({
    redactor,
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    }),
  });
  let offsetMs = 0;
  const sleeps: number[] = [];
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
  const hooks: { onSleep: ((ms: number) => void) | undefined } = { onSleep: undefined };
  const sleep: Sleep = async (ms, signal) => {
    sleeps.push(ms);
    hooks.onSleep?.(ms);
    offsetMs += ms;
    if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    await new Promise((r) => setTimeout(r, 1));
  };
  const options = (overrides: Partial<OneDriveDestinationOptions> = {}): OneDriveDestinationOptions => ({
    tenantId: TENANT,
    clientId: CLIENT_ID,
    credential: { clientSecret: CLIENT_SECRET },
    authorityHost: sim.authorityHost,
    graphBaseUrl: sim.graphBaseUrl,
    caFile: sim.caFile,
    drive: { user: 'ops@contoso.com' },
    path: 'Reports/Sales Pipeline.xlsx',
    retry: FAST_RETRY,
    chunkBytes: 4 * 327_680,
    ...overrides,
  });
  let fileNo = 0;
  return {
    get onSleep() {
      return hooks.onSleep;
    },
    set onSleep(fn) {
      hooks.onSleep = fn;
    },
    sim,
    dir,
    logs,
    logger,
    redactor,
    clock,
    sleep,
    sleeps,
    async makeFile(bytes, name = 'Sales Pipeline.xlsx') {
      const data = randomBytes(bytes);
      const path = join(dir, `file-${fileNo++}.bin`);
      await writeFile(path, data);
      return { path, bytes, suggestedName: name, data };
    },
    options,
    destination: (overrides) =>
      createOneDriveDestination(options(overrides), { logger, redactor, clock, sleep, random: () => 0.5 }),
    context: (signal) => ({
      logger,
      signal: signal ?? new AbortController().signal,
      runStartedAt: new Date('2026-11-27T05:00:00Z'),
      timezone: 'Europe/Paris',
    }),
    async close() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
