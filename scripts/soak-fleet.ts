/**
 * The soak's fleet: a restartable private Redis (append-only file on, so a restart keeps the queue and the run
 * history as a production Redis with persistence does), the config pointing at the simulators, and the real
 * `serve --no-work` plus two `worker` CLI processes, with a kill -9 and respawn of a worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SIM_CLIENT, SIM_USER, type SimEnv } from '../test/integration/helpers/sim-env.js';
import {
  createServiceGroup,
  type LogLine,
  type ServiceGroup,
  type ServiceProcess,
} from '../test/integration/helpers/service-process.js';
import type { Cleanup } from './queue-load-kit.js';

/** The simulator's default connected app (see src/simulators/tableau): no one-session-per-PAT serialisation. */
const CONNECTED_APP = {
  clientId: 'sim-client-id',
  secretId: 'sim-secret-id',
  secretValue: 'sim-connected-app-secret-value',
  user: 'ops@example.com',
};
const READY_TIMEOUT_MS = 120_000;

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    }),
  );
  await new Promise((r) => server.close(r));
  return port;
}

export interface SoakRedis {
  readonly url: string;
  readonly port: number;
  /** Graceful SHUTDOWN (the append-only file is flushed), `downMs` of downtime, then the same server again. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server on a free loopback port with its data in `dir` (appendonly yes, fsync every second). */
export async function startSoakRedis(dir: string, cleanup: Cleanup): Promise<SoakRedis> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready after 20 s: ${out}`)), 20_000);
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  };
  const shutdown = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM'); // redis-server's SIGTERM is a graceful SHUTDOWN (flushes the AOF)
    await exited;
  };
  await launch();
  cleanup.step(`stop redis-server on port ${port}`, shutdown, () => child?.kill('SIGKILL'));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart(downMs) {
      await shutdown();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    stop: shutdown,
  };
}

export interface SoakExport {
  readonly id: string;
  /** Drive-relative path of its file in the simulated OneDrive. */
  readonly path: string;
  /** Location as the run report records it (`user/path`). */
  readonly location: string;
}

/**
 * `count` exports: every fourth one the heavy kind (row-level Opportunities with metrics and per-deal snapshots,
 * stored uncompressed so it goes through a resumable upload session of several fragments), the others two
 * aggregated views in one simple upload. All keep skipUnchanged (the default): an unchanged night adds no version.
 */
export function soakExports(count: number): SoakExport[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `soak-${String(i + 1).padStart(2, '0')}`;
    const path = `Soak/${id}.xlsx`;
    return { id, path, location: `${SIM_USER}/${path}` };
  });
}

function exportYaml(e: SoakExport, heavy: boolean): string {
  const views = heavy
    ? `      - { workbook: Sales Pipeline, view: Opportunities }
      - { workbook: Sales Pipeline, view: Pipeline by Stage }
    metrics: { from: Opportunities }
    zipLevel: 0`
    : `      - { workbook: Sales Pipeline, view: Rep Performance }
      - { workbook: Sales Pipeline, view: Pipeline by Stage }`;
  return `  - id: ${e.id}
    views:
${views}
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: ${e.path}
      onLocked: { retryFor: 3s, then: fail }
      uploadSessionThreshold: 327680
      chunkSize: 327680
`;
}

/** Writes the config: the simulators through ordinary settings, fast retries, queue mode on the soak's Redis. */
export async function writeSoakConfig(
  sim: SimEnv,
  o: { dir: string; stateDir: string; prefix: string; exports: readonly SoakExport[] },
): Promise<string> {
  const retry = 'retry: { attempts: 4, initialDelay: 50ms, maxDelay: 200ms, maxRetryAfter: 2s, giveUpAfter: 20s }';
  const text = `timezone: UTC
stateDir: ${o.stateDir}
tableau:
  serverUrl: ${sim.tableau.url}
  site: sales
  caFile: ${sim.tableau.caFile}
  maxConcurrentExports: 2
  auth: { type: connected-app, clientIdEnv: TABLEAU_CA_CLIENT_ID, secretIdEnv: TABLEAU_CA_SECRET_ID, secretValueEnv: TABLEAU_CA_SECRET_VALUE, username: ${CONNECTED_APP.user} }
  ${retry}
onedrive:
  tenantId: ${SIM_CLIENT.tenantId}
  clientId: ${SIM_CLIENT.clientId}
  clientSecretEnv: AZURE_CLIENT_SECRET
  authorityHost: ${sim.graph.authorityHost}
  graphBaseUrl: ${sim.graph.graphBaseUrl}
  caFile: ${sim.graph.caFile}
  ${retry}
server: { shutdownGrace: 20s }
queue: { redisUrlEnv: REDIS_URL, prefix: ${o.prefix}, concurrency: 2, siteConcurrency: 4, lockDuration: 10s, stalledInterval: 3s }
exports:
${o.exports.map((e, i) => exportYaml(e, i % 4 === 0)).join('')}`;
  const file = join(o.dir, 'soak.yaml');
  await writeFile(file, text);
  return file;
}

export interface SoakFleet {
  readonly serve: ServiceProcess;
  readonly baseUrl: string;
  /** The live worker processes, by slot (0 and 1). */
  worker(slot: number): ServiceProcess;
  /** Every worker process ever started, killed ones included (their logs count too). */
  allWorkers(): readonly ServiceProcess[];
  /** SIGKILLs the worker in `slot`, waits for its death, starts a new one in its place. */
  killAndRespawn(slot: number): Promise<{ killedPid: number; newPid: number }>;
  /** SIGTERM everyone (graceful), SIGKILL after the grace. */
  stop(): Promise<void>;
}

/** Starts `serve --no-work` and two workers with `env` (credentials, REDIS_URL, ADMIN_TOKEN, a private TMPDIR). */
export async function startSoakFleet(config: string, env: NodeJS.ProcessEnv, cleanup: Cleanup): Promise<SoakFleet> {
  const group: ServiceGroup = createServiceGroup({
    ...env,
    AZURE_CLIENT_SECRET: SIM_CLIENT.secret,
    TABLEAU_CA_CLIENT_ID: CONNECTED_APP.clientId,
    TABLEAU_CA_SECRET_ID: CONNECTED_APP.secretId,
    TABLEAU_CA_SECRET_VALUE: CONNECTED_APP.secretValue,
  });
  cleanup.step('kill whatever of the fleet is left', () => group.killAll());
  const all: ServiceProcess[] = [];
  const start = async (args: readonly string[], ready: (l: LogLine) => boolean): Promise<ServiceProcess> => {
    const p = await group.spawn(args);
    all.push(p);
    await p.waitForLog(`the ready line of ${args[0] ?? ''}`, ready, READY_TIMEOUT_MS);
    return p;
  };
  const startWorker = (): Promise<ServiceProcess> =>
    start(['worker', '--config', config], (l) => l.msg === 'worker ready');
  let listening: LogLine | undefined;
  const [serve, ...workers] = await Promise.all([
    start(['serve', '--config', config, '--port', '0', '--no-work'], (l) => {
      const ok =
        typeof l['url'] === 'string' && typeof l.msg === 'string' && l.msg.startsWith('admin server listening');
      if (ok) listening = l;
      return ok;
    }),
    startWorker(),
    startWorker(),
  ]);
  const baseUrl = listening?.['url'];
  if (serve === undefined || typeof baseUrl !== 'string') throw new Error('serve --no-work logged no admin URL');
  const slots = [...workers];
  return {
    serve,
    baseUrl,
    worker(slot) {
      const w = slots[slot];
      if (w === undefined) throw new Error(`no worker in slot ${slot}`);
      return w;
    },
    allWorkers: () => all.filter((p) => p !== serve),
    async killAndRespawn(slot) {
      const victim = slots[slot];
      if (victim === undefined) throw new Error(`no worker in slot ${slot}`);
      victim.signal('SIGKILL');
      await victim.exited;
      const next = await startWorker();
      slots[slot] = next;
      return { killedPid: victim.pid, newPid: next.pid };
    },
    async stop() {
      await Promise.all(all.map((p) => p.stop(30_000)));
    },
  };
}
