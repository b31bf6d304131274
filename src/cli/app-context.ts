/**
 * The composition root: turns a validated config into wired sources, destinations, stores and runners. The only
 * place that reads secrets from the environment. One instance per process, so the Tableau source (its PAT lock
 * and per-site limiter) and the MSAL token cache are shared by every run of the process.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPath, type LoadedConfig } from '../config/load.js';
import { webhookUrlIssues } from '../config/rules.js';
import type { Config, ExportConfig, ViewConfig } from '../config/schema.js';
import { ConfigError, UsageError } from '../shared/errors.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { ensurePrivateDir } from '../shared/private-files.js';
import type { Logger } from '../shared/logger.js';
import { createRedactor, type Redactor } from '../shared/redact.js';
import { createCsvSource } from '../sources/csv/csv-source.js';
import { createGraphAuthRegistry } from '../destinations/onedrive/index.js';
import { createEnvSecrets, secretValues } from './env-secrets.js';
export { secretValues } from './env-secrets.js';
import { wireDestination, type WiredDestination } from './wire-destination.js';
import { wireTableauSource, type TableauSource } from './wire-tableau.js';
import { runExport, type RunProgress } from '../pipeline/run-export.js';
import type { RetryOf } from '../pipeline/burst.js';
import { sweepOrphanedRuns } from '../pipeline/orphaned-runs.js';
import type { Source } from '../contracts/ports.js';
import type { RunReport, RunTrigger } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import { openStateDatabase, type StateDatabase } from '../state/database.js';
import { createSqliteRunStore } from '../state/sqlite-run-store.js';
import { acquireExportLock } from '../state/export-lock.js';
import { createSnapshotStore } from '../state/snapshots.js';
import { createWebhookNotifier } from '../scheduler/webhook-notifier.js';
import type { Notifier, NotifySettings, RunObserver } from '../contracts/after-run.js';
import { createAfterRun, type AfterRun } from '../pipeline/after-run.js';

/** The tool's version, from package.json (same relative place under src/ and dist/). */
export const TOOL_VERSION: string = (() => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string'
      ? pkg.version
      : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export interface RunOptions {
  readonly trigger: RunTrigger;
  readonly runId?: string | undefined;
  readonly dryRun?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((p: RunProgress) => void) | undefined;
  readonly attempt?: number | undefined;
  readonly onStart?: ((runId: string) => void) | undefined;
  /** The run's logger (the scheduler binds runId and exportId); default the context's logger. */
  readonly logger?: Logger | undefined;
  /** A burst retry: the failed run whose delivered parts are kept (`run --failed`). */
  readonly retryOf?: RetryOf | undefined;
}

export interface AppContext {
  readonly loaded: LoadedConfig;
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  findExport(id: string): ExportConfig;
  exportTimezone(exp: ExportConfig): string;
  /** Runs one export now and records it in the run store. Never throws for run failures. */
  runOne(exportId: string, options: RunOptions): Promise<RunReport>;
  /** The run store (SQLite under stateDir unless replaced, e.g. by Redis in queue mode). */
  store(): RunStore;
  /** Lazily created Tableau source (throws ConfigError when the config has no tableau section). */
  tableau(): TableauSource;
  destinationFor(exp: ExportConfig): WiredDestination;
  /** The after-run policy (metrics, notifications) for runs this process runs outside the in-process scheduler. */
  readonly afterRun: AfterRun;
  close(): Promise<void>;
}

export interface AppContextOptions {
  readonly logger: Logger;
  readonly redactor?: Redactor;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** Replace the SQLite run store (queue mode uses Redis). */
  readonly store?: RunStore;
  /** Share an open state database (serve keeps one across config reloads). */
  readonly database?: StateDatabase;
  /** Hears about run starts and ends (Prometheus metrics in queue mode). */
  readonly observer?: RunObserver;
  /**
   * The context this one replaces (config reload). Its Tableau source is kept when the tableau section is unchanged,
   * so runs before and after the reload share one PAT lock and one per-site limiter.
   */
  readonly previous?: AppContext;
}

/** Where an export's notifications go: its webhook URL read from the environment, or undefined when none is set. */
export function notifySettingsFor(exp: ExportConfig | undefined, env: NodeJS.ProcessEnv): NotifySettings | undefined {
  if (exp?.notify === undefined) return undefined;
  const webhookUrl = env[exp.notify.webhookUrlEnv];
  if (webhookUrl === undefined || webhookUrl === '') return undefined;
  return {
    webhookUrl,
    rowDropShare: exp.notify.rowDropShare,
    format: exp.notify.format,
    allowPrivate: exp.notify.allowPrivate,
    caFile: exp.notify.caFile,
  };
}

/**
 * Throws ConfigError naming `exports[i].notify.webhookUrlEnv` for every webhook URL of the environment that is not
 * https or points at this machine or a private address without `allowPrivate` (the URL itself is never quoted).
 */
export function checkWebhookUrls(loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  const issues = webhookUrlIssues(loaded.config, env);
  if (issues.length > 0)
    throw new ConfigError(
      issues.map((i) => ({ file: loaded.file, line: undefined, path: formatPath(i.path), message: i.message })),
    );
}

export function createAppContext(loaded: LoadedConfig, options: AppContextOptions): AppContext {
  const env = options.env ?? process.env;
  const { config } = loaded;
  const redactor = options.redactor ?? createRedactor();
  for (const s of secretValues(config, env)) redactor.addSecret(s);
  checkWebhookUrls(loaded, env);
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const tempDir = join(config.stateDir, 'tmp');

  const secrets = createEnvSecrets(loaded.file, env);

  let tableauSource: TableauSource | undefined;
  const tableau = (): TableauSource => {
    if (tableauSource !== undefined) return tableauSource;
    if (
      options.previous !== undefined &&
      JSON.stringify(options.previous.config.tableau) === JSON.stringify(config.tableau)
    ) {
      tableauSource = options.previous.tableau();
      return tableauSource;
    }
    const t = config.tableau;
    if (t === undefined)
      throw new ConfigError([
        {
          file: loaded.file,
          line: undefined,
          path: 'tableau',
          message: 'this command needs a "tableau" section in the config',
        },
      ]);
    tableauSource = wireTableauSource(t, secrets, { logger, redactor, clock });
    return tableauSource;
  };

  const csvSource = createCsvSource({ baseDir: loaded.baseDir });
  const sourceFor = (view: ViewConfig): Source => (view.file !== undefined ? csvSource : tableau());

  const graphAuths = createGraphAuthRegistry({ logger, redactor });
  const destinations = new Map<string, WiredDestination>();
  const destinationFor = (exp: ExportConfig): WiredDestination => {
    let cached = destinations.get(exp.id);
    if (cached === undefined) {
      cached = buildDestination(exp);
      destinations.set(exp.id, cached);
    }
    return cached;
  };
  const buildDestination = (exp: ExportConfig): WiredDestination =>
    wireDestination(exp, { configFile: loaded.file, config, secrets, graphAuths, logger, redactor, clock });

  let db: StateDatabase | undefined = options.database;
  const ownsDb = options.database === undefined;
  const database = (): StateDatabase => (db ??= openStateDatabase(config.stateDir));
  let runStore: RunStore | undefined = options.store;
  const store = (): RunStore => (runStore ??= createSqliteRunStore(database()));
  let snapshots: ReturnType<typeof createSnapshotStore> | undefined;
  let notifier: Notifier | undefined;
  const afterRun = createAfterRun({
    logger,
    observer: options.observer,
    // Created on first use: it reads the history, which a context that never runs anything need not open.
    notifier: {
      runFinished: (report, settings) =>
        (notifier ??= createWebhookNotifier({ logger, redactor, history: store() })).runFinished(report, settings),
    },
    notifySettings: (exportId) =>
      notifySettingsFor(
        config.exports.find((e) => e.id === exportId),
        env,
      ),
  });

  const findExport = (id: string): ExportConfig => {
    const exp = config.exports.find((e) => e.id === id);
    if (exp === undefined)
      throw new UsageError(
        `unknown export "${id}"; exports in ${loaded.file}: ${config.exports.map((e) => e.id).join(', ')}`,
        { hint: 'run `tableau-export list`' },
      );
    return exp;
  };
  const exportTimezone = (exp: ExportConfig): string => exp.timezone ?? config.timezone;

  return {
    loaded,
    config,
    logger,
    redactor,
    clock,
    findExport,
    exportTimezone,
    store,
    tableau,
    destinationFor,
    runOne: (exportId, opts) =>
      runWired(findExport(exportId), opts, {
        destinationFor,
        tableau,
        sourceFor,
        partDestination: buildDestination,
        store,
        snapshots: () => (snapshots ??= createSnapshotStore(database())),
        timezoneOf: exportTimezone,
        tempDir,
        // Queue mode has the fleet's own lock (one run of an export at a time across machines).
        lockDir: config.queue === undefined ? config.stateDir : undefined,
        logger,
        clock,
        redactor,
        defaultMaxAgeMinutes: config.tableau?.maxAgeMinutes,
        markOrphanedRuns: config.queue === undefined,
      }),
    afterRun,
    async close() {
      if (options.store === undefined) await runStore?.close().catch(() => undefined);
      if (ownsDb) db?.close();
    },
  };
}

interface RunWiring {
  /**
   * Whether the temp-folder sweep marks a dead process's run interrupted. Not in queue mode: there the queue retries
   * the run (its next attempt records the dead one as interrupted, a run out of attempts is marked when its job
   * fails), and marking it here, seconds before the retry, showed the run as failed until the retry took it.
   */
  readonly markOrphanedRuns: boolean;
  readonly destinationFor: (exp: ExportConfig) => WiredDestination;
  /** A burst part's destination (not cached: one per part path). */
  readonly partDestination: (exp: ExportConfig) => WiredDestination;
  readonly tableau: () => TableauSource;
  readonly sourceFor: (view: ViewConfig) => Source;
  readonly store: () => RunStore;
  readonly snapshots: () => ReturnType<typeof createSnapshotStore>;
  readonly timezoneOf: (exp: ExportConfig) => string;
  readonly tempDir: string;
  /** The state folder holding the per-export run locks; undefined when another lock applies (queue mode). */
  readonly lockDir: string | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly redactor: Redactor;
  readonly defaultMaxAgeMinutes: number | undefined;
}

/** One run of `exp` through the wired sources, destination and stores. */
async function runWired(exp: ExportConfig, opts: RunOptions, w: RunWiring): Promise<RunReport> {
  // Resolve credentials before anything starts, so a missing secret is a config error (exit 2) for every source
  // and destination alike, never a half-started run.
  const destination = w.destinationFor(exp);
  if (exp.views.some((v) => v.file === undefined)) w.tableau();
  const dryRun = opts.dryRun ?? false;
  // One run of an export at a time on this state folder, whichever process starts it (`run` twice, `run` while
  // `serve` runs it). A dry run delivers nothing and writes no history, so it never waits for or blocks a run.
  // When another process holds it, ExportAlreadyRunningError: exit 1 for `run`, a skipped run for `serve`.
  const lock = w.lockDir === undefined || dryRun ? undefined : await acquireExportLock(w.lockDir, exp.id);
  try {
    return await runLocked(exp, opts, w, destination, dryRun);
  } finally {
    await lock?.release();
  }
}

async function runLocked(
  exp: ExportConfig,
  opts: RunOptions,
  w: RunWiring,
  destination: WiredDestination,
  dryRun: boolean,
): Promise<RunReport> {
  await ensurePrivateDir(w.tempDir);
  await sweepOrphanedRuns(w.tempDir, {
    store: w.markOrphanedRuns ? w.store() : undefined,
    logger: w.logger,
    now: w.clock.now(),
  });
  return runExport(
    {
      exportConfig: exp,
      timezone: w.timezoneOf(exp),
      runId: opts.runId ?? newRunId(),
      trigger: opts.trigger,
      dryRun,
      ...(opts.attempt === undefined ? {} : { attempt: opts.attempt }),
      retryOf: opts.retryOf,
    },
    {
      sourceFor: w.sourceFor,
      destination,
      partDestination: w.partDestination,
      logger: opts.logger ?? w.logger,
      clock: w.clock,
      redactor: w.redactor,
      tempDir: w.tempDir,
      // A dry run delivers nothing, so it is not history: it must not become the "last success" or a recovery.
      store: dryRun ? undefined : w.store(),
      snapshots: exp.metrics === undefined ? undefined : w.snapshots(),
      signal: opts.signal,
      onProgress: opts.onProgress,
      onStart: opts.onStart,
      toolVersion: TOOL_VERSION,
      defaultMaxAgeMinutes: w.defaultMaxAgeMinutes,
    },
  );
}

/** A human label of an export's destination that needs no credentials (for list, the API and messages). */
export function describeDestination(exp: ExportConfig): string {
  const d = exp.destination;
  if (d.type === 'local') return join(d.dir, d.fileName ?? `${exp.id}.xlsx`);
  const drive =
    'user' in d.drive
      ? `user ${d.drive.user}`
      : 'driveId' in d.drive
        ? `drive ${d.drive.driveId}`
        : `site ${d.drive.site}`;
  return `OneDrive (${drive}): ${d.path}`;
}

/** Absolute path of the workbook of an export delivered to a local folder (undefined for OneDrive). */
export function localFileOf(exp: ExportConfig): string | undefined {
  const d = exp.destination;
  return d.type === 'local' ? join(d.dir, d.fileName ?? `${exp.id}.xlsx`) : undefined;
}

/** Sortable, unique run ids: `20261127T060000Z-3f9a1c2b`. */
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}-${randomUUID().slice(0, 8)}`;
}

/** The failed run a burst retry repeats, with its parts, read from the history (undefined: not a retry, or gone). */
export async function retryOfRun(ctx: AppContext, runId: string | undefined): Promise<RetryOf | undefined> {
  if (runId === undefined) return undefined;
  const run = await ctx
    .store()
    .getRun(runId)
    .catch(() => undefined);
  return run?.parts === undefined ? undefined : { runId: run.runId, parts: run.parts };
}
