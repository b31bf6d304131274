/**
 * `tableau-export serve`: the scheduler and the admin server (API, dashboard, /metrics) in one process.
 * SIGHUP re-reads the config (an invalid one is logged and the old one kept); SIGTERM/SIGINT stop scheduling, let
 * running exports finish up to server.shutdownGrace, abort the rest cleanly, and exit 0.
 * With `queue:` in the config, scheduling and runs go through BullMQ instead (see queue-mode.ts).
 */
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { UsageError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { openStateDatabase } from '../../state/database.js';
import { createSqliteRunStore } from '../../state/sqlite-run-store.js';
import { createScheduler } from '../../scheduler/scheduler.js';
import { createWebhookNotifier } from '../../scheduler/webhook-notifier.js';
import { createAdminServer } from '../../server/admin-server.js';
import { createSchedulerControl } from '../../scheduler/scheduler-control.js';
import { createRunMetrics } from '../../server/metrics.js';
import { createLiveRuns } from '../../server/live-runs.js';
import { createAppContext, newRunId, type AppContext } from '../app-context.js';
import { secretValues } from '../env-secrets.js';
import { adminServerSecurity, adminTokensFromEnv } from '../admin-tokens.js';
import { createContextRunner, scheduledExports } from '../service.js';
import { EXIT_OK } from '../output.js';
import { untilStopSignal } from '../signals.js';
import { serveQueueMode } from './queue-mode.js';

export interface ServeOptions {
  readonly port: number | undefined;
  /** Queue mode only: also process runs in this process (default true). */
  readonly work: boolean;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly env?: NodeJS.ProcessEnv;
}

/** Port: --port, then server.port, then PORT, then 8080. */
export function resolvePort(flag: number | undefined, loaded: LoadedConfig, env: NodeJS.ProcessEnv): number {
  const candidate =
    flag ?? loaded.config.server.port ?? (env['PORT'] === undefined ? undefined : Number(env['PORT'])) ?? 8080;
  if (!Number.isInteger(candidate) || candidate < 0 || candidate > 65535)
    throw new UsageError(`invalid port "${String(candidate)}"; give a number between 0 and 65535`);
  return candidate;
}

export async function serveCommand(file: string, options: ServeOptions): Promise<number> {
  const env = options.env ?? process.env;
  const loaded = await loadConfig(file);
  const tokens = adminTokensFromEnv(env);
  for (const t of tokens) options.redactor.addSecret(t.token);
  const port = resolvePort(options.port, loaded, env);
  if (loaded.config.queue !== undefined) return serveQueueMode(loaded, { ...options, env, port, tokens });

  const { logger, redactor } = options;
  const db = openStateDatabase(loaded.config.stateDir);
  const store = createSqliteRunStore(db);
  let ctx: AppContext = createAppContext(loaded, { logger, redactor, env, store, database: db });
  const metrics = createRunMetrics();
  const notifier = createWebhookNotifier({ logger, redactor, history: store });
  const live = createLiveRuns({ clock: ctx.clock });
  const scheduler = createScheduler({
    exports: scheduledExports(loaded.config, env),
    runner: createContextRunner(() => ctx),
    store,
    logger,
    clock: ctx.clock,
    newRunId: () => newRunId(),
    notifier,
    observer: metrics,
    redactor,
    progress: live,
  });
  const server = createAdminServer({
    control: createSchedulerControl(scheduler),
    history: store,
    tokens,
    ...adminServerSecurity(loaded.config, env),
    logger,
    registry: metrics.registry,
    live,
  });

  const onHup = (): void => {
    loadConfig(file)
      .then((next) => {
        for (const s of secretValues(next.config, env)) redactor.addSecret(s);
        ctx = createAppContext(next, { logger, redactor, env, store, database: db, previous: ctx });
        scheduler.reload(scheduledExports(next.config, env));
        logger.info({ exports: next.config.exports.length }, 'config reloaded');
      })
      .catch((err: unknown) =>
        logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          'config reload failed; keeping the previous config',
        ),
      );
  };
  process.on('SIGHUP', onHup);

  await scheduler.start();
  const url = await server.listen(port, loaded.config.server.host);
  logger.info({ url, exports: loaded.config.exports.length }, `admin server listening on ${url}`);
  await untilStopSignal(logger);
  process.off('SIGHUP', onHup);
  await scheduler.stop({ deadlineMs: loaded.config.server.shutdownGrace });
  await server.close();
  await ctx.close();
  db.close();
  logger.info('stopped');
  return EXIT_OK;
}
