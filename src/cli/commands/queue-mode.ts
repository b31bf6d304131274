/**
 * Queue mode (config `queue:`): scheduling and runs on BullMQ/Redis, run history in Redis, so any number of `serve`
 * replicas and `worker` processes share one fleet. `serve` registers the job schedulers and serves the admin API
 * (and also works unless --no-work); `worker` only takes runs.
 */
import { hostname } from 'node:os';
import type { LoadedConfig } from '../../config/load.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import type { AdminToken } from '../../server/auth.js';
import { createAdminServer } from '../../server/admin-server.js';
import { createRunMetrics } from '../../server/metrics.js';
import { createRedisRunStore } from '../../state/redis-run-store.js';
import { createQueueScheduler } from '../../scheduler/queue/queue-scheduler.js';
import { createQueueWorker } from '../../scheduler/queue/queue-worker.js';
import { type ExportRunner } from '../../contracts/export-runner.js';
import { createQueueExportControl } from '../../scheduler/queue/queue-export-control.js';
import { registerQueueMetrics } from '../../scheduler/queue/queue-metrics.js';
import { createRedisConnection, describeRedisUrl, resolveRedisUrl } from '../../scheduler/queue/redis-connection.js';
import { createRedisProgressSink, relayRedisProgress } from '../../scheduler/queue/progress-channel.js';
import { createLiveRuns } from '../../server/live-runs.js';
import type { ProgressSink } from '../../contracts/run-progress.js';
import { systemClock } from '../../shared/clock.js';
import type { Redis } from 'ioredis';
import { createAppContext, describeDestination, localFileOf, retryOfRun, type AppContext } from '../app-context.js';
import { secretValues } from '../env-secrets.js';
import { stageTimeouts, withStageTimeouts } from '../stage-timeouts.js';
import { blankRunReport, type RunReport } from '../../contracts/run-report.js';
import { EXIT_OK } from '../output.js';
import { untilStopSignal } from '../signals.js';
import { adminServerSecurity } from '../admin-tokens.js';
import { redisUrlPasswords } from '../../shared/redis-url.js';

export interface QueueSettings {
  readonly url: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly siteConcurrency: number;
  readonly sessionCapacity: number | undefined;
  readonly site: string;
  readonly runJobs: { attempts: number; retryDelayMs: number };
  readonly stall: { lockDuration: number; stalledInterval: number };
}

export function queueSettings(config: Config, env: NodeJS.ProcessEnv): QueueSettings {
  const q = config.queue;
  if (q === undefined) throw new Error('queue mode without a queue section');
  return {
    url: resolveRedisUrl(q, env),
    prefix: q.prefix,
    concurrency: q.concurrency,
    siteConcurrency: q.siteConcurrency ?? config.tableau?.maxConcurrentExports ?? 2,
    // Tableau ends a PAT's previous session at every sign-in: one PAT → one run at a time across the fleet.
    sessionCapacity: config.tableau?.auth.type === 'pat' ? 1 : undefined,
    site: config.tableau?.site ?? '',
    runJobs: { attempts: q.attempts, retryDelayMs: 5_000 },
    stall: { lockDuration: q.lockDuration, stalledInterval: q.stalledInterval },
  };
}

export function exportListing(config: Config): {
  id: string;
  schedule: string | undefined;
  timezone: string;
  destinationLabel: string;
  localFile: string | undefined;
  updateMode: boolean;
  site: string;
}[] {
  return config.exports.map((e) => ({
    id: e.id,
    schedule: e.schedule,
    timezone: e.timezone ?? config.timezone,
    destinationLabel: describeDestination(e),
    localFile: localFileOf(e),
    updateMode: e.destination.mode === 'update',
    site: config.tableau?.site ?? '',
  }));
}

interface Common {
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly env: NodeJS.ProcessEnv;
}

/** Builds the Redis-backed run store, the app context and the runner shared by serve and worker. */
function openFleetMember(
  loaded: LoadedConfig,
  o: Common,
): {
  settings: QueueSettings;
  ctx: () => AppContext;
  swap: (next: LoadedConfig) => void;
  runner: ExportRunner;
  metrics: ReturnType<typeof createRunMetrics>;
  close: () => Promise<void>;
  store: ReturnType<typeof createRedisRunStore>;
  progress: ProgressSink;
  redis: Redis;
} {
  const settings = queueSettings(loaded.config, o.env);
  // Each password in the URL (user info, ?password=), before the first connection can log anything.
  for (const secret of redisUrlPasswords(settings.url)) o.redactor.addSecret(secret);
  const redis = createRedisConnection(settings.url, 'client', (err) =>
    o.logger.warn({ err: err.message }, 'redis connection error'),
  );
  const store = createRedisRunStore(redis, settings.prefix);
  const progress = createRedisProgressSink(redis, settings.prefix, o.logger);
  const metrics = createRunMetrics();
  let ctx = createAppContext(loaded, { logger: o.logger, redactor: o.redactor, env: o.env, store, observer: metrics });
  const runner: ExportRunner = async (exportId, trigger, options) => {
    const afterRun = ctx.afterRun;
    afterRun.started(exportId, options.runId);
    let report: RunReport;
    try {
      const timeouts = stageTimeouts(ctx.config, ctx.findExport(exportId));
      report = await ctx.runOne(exportId, {
        trigger,
        runId: options.runId,
        signal: options.signal,
        attempt: options.attempt,
        onProgress: withStageTimeouts(timeouts, options.onProgress),
        retryOf: await retryOfRun(ctx, options.retryOf),
      });
    } catch (err) {
      // Could not even start (e.g. a secret missing from this worker's environment): count it, then let the queue decide.
      const at = new Date().toISOString();
      afterRun.recorded(
        blankRunReport({
          runId: options.runId,
          exportId,
          trigger,
          status: 'failed',
          startedAt: at,
          finishedAt: at,
          durationMs: 0,
        }),
      );
      throw err;
    }
    // People hear about the run, not about one attempt of it: its record has the run id "Sync now" gave out and
    // lists the attempts (one interrupted on another worker, this one).
    const run = await store.getRun(options.runId).catch(() => undefined);
    await afterRun.finished(run?.status === report.status && run.attempt === report.attempt ? run : report);
    return report;
  };
  return {
    settings,
    ctx: () => ctx,
    swap: (next) => {
      for (const s of secretValues(next.config, o.env)) o.redactor.addSecret(s);
      ctx = createAppContext(next, {
        logger: o.logger,
        redactor: o.redactor,
        env: o.env,
        store,
        observer: metrics,
        previous: ctx,
      });
    },
    runner,
    metrics,
    store,
    progress,
    redis,
    close: async () => {
      await ctx.close();
      await redis.quit().catch(() => undefined);
    },
  };
}

export async function serveQueueMode(
  loaded: LoadedConfig,
  o: Common & { port: number; tokens: readonly AdminToken[]; work: boolean },
): Promise<number> {
  const { logger } = o;
  const member = openFleetMember(loaded, o);
  const { settings } = member;
  let config = loaded.config;
  const scheduler = createQueueScheduler({
    connection: settings.url,
    prefix: settings.prefix,
    exports: exportListing(config),
    timezone: config.timezone,
    siteConcurrency: settings.siteConcurrency,
    sessionCapacity: settings.sessionCapacity,
    runJobs: settings.runJobs,
    store: member.store,
    logger,
  });
  const worker = o.work
    ? createQueueWorker({
        connection: settings.url,
        prefix: settings.prefix,
        concurrency: settings.concurrency,
        siteConcurrency: settings.siteConcurrency,
        sessionCapacity: settings.sessionCapacity,
        sites: [settings.site],
        runner: member.runner,
        store: member.store,
        logger,
        runJobs: settings.runJobs,
        stall: settings.stall,
        name: `${hostname()}:${process.pid}`,
        progress: member.progress,
        redact: (t) => o.redactor.redact(t),
      })
    : undefined;
  registerQueueMetrics(member.metrics.registry, () => scheduler.depth());
  const control = createQueueExportControl(scheduler, () => exportListing(config));
  // Every replica shows the progress of the whole fleet: the workers publish it on Redis, relayed here.
  const live = createLiveRuns({ clock: systemClock });
  const relay = await relayRedisProgress({
    subscriber: createRedisConnection(settings.url, 'worker', (err) =>
      logger.warn({ err: err.message }, 'redis connection error (live progress)'),
    ),
    reader: member.redis,
    prefix: settings.prefix,
    sink: live,
    logger,
  });
  const server = createAdminServer({
    control,
    history: member.store,
    tokens: o.tokens,
    ...adminServerSecurity(config, o.env),
    logger,
    registry: member.metrics.registry,
    live,
  });

  const onHup = (): void => {
    loadConfig(loaded.file)
      .then(async (next) => {
        member.swap(next);
        config = next.config;
        await scheduler.sync(exportListing(config));
        logger.info({ exports: config.exports.length }, 'config reloaded; job schedulers synced');
      })
      .catch((err: unknown) =>
        logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          'config reload failed; keeping the previous config',
        ),
      );
  };
  process.on('SIGHUP', onHup);
  await scheduler.sync(exportListing(config));
  await worker?.ready();
  const url = await server.listen(o.port, config.server.host);
  logger.info(
    { url, redis: describeRedisUrl(settings.url), work: o.work },
    `admin server listening on ${url} (queue mode)`,
  );
  await untilStopSignal(logger);
  process.off('SIGHUP', onHup);
  await worker?.close({ graceMs: config.server.shutdownGrace });
  await scheduler.close();
  await server.close();
  await relay.close();
  await member.close();
  return EXIT_OK;
}

export async function runWorker(loaded: LoadedConfig, o: Common): Promise<number> {
  const { logger } = o;
  const member = openFleetMember(loaded, o);
  const { settings } = member;
  const worker = createQueueWorker({
    connection: settings.url,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    siteConcurrency: settings.siteConcurrency,
    sessionCapacity: settings.sessionCapacity,
    sites: [settings.site],
    runner: member.runner,
    store: member.store,
    logger,
    runJobs: settings.runJobs,
    stall: settings.stall,
    name: `${hostname()}:${process.pid}`,
    progress: member.progress,
    redact: (t) => o.redactor.redact(t),
  });
  const onHup = (): void => {
    loadConfig(loaded.file)
      .then((next) => {
        member.swap(next);
        logger.info('config reloaded');
      })
      .catch((err: unknown) =>
        logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          'config reload failed; keeping the previous config',
        ),
      );
  };
  process.on('SIGHUP', onHup);
  await worker.ready();
  logger.info({ redis: describeRedisUrl(settings.url), concurrency: settings.concurrency }, 'worker ready');
  await untilStopSignal(logger);
  process.off('SIGHUP', onHup);
  await worker.close({ graceMs: loaded.config.server.shutdownGrace });
  await member.close();
  return EXIT_OK;
}
