/**
 * The composition root: turns a validated config into wired sources, destinations, stores and runners. The only
 * place that reads secrets from the environment. One instance per process, so the Tableau source (its PAT lock
 * and per-site limiter) and the MSAL token cache are shared by every run of the process.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { Config, ExportConfig, RetryConfig, ViewConfig } from '../config/schema.js';
import type { RetryPolicy } from '../shared/retry.js';
import { ConfigError, UsageError } from '../shared/errors.js';
import { systemClock, realSleep, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { createRedactor, type Redactor } from '../shared/redact.js';
import { createCsvSource } from '../sources/csv/csv-source.js';
import { createTableauSource, type TableauSourceOptions } from '../sources/tableau/index.js';
import { createLocalDestination } from '../destinations/local/local-destination.js';
import {
  createOneDriveDestination,
  createGraphAuthRegistry,
  resolveCloud,
  type GraphCredential,
} from '../destinations/onedrive/index.js';
import { runExport, type RunProgress } from '../pipeline/run-export.js';
import { sweepOrphanedRuns } from '../pipeline/orphaned-runs.js';
import type { Destination, Source } from '../contracts/ports.js';
import type { RunReport, RunTrigger } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import { openStateDatabase, type StateDatabase } from '../state/database.js';
import { createSqliteRunStore } from '../state/sqlite-run-store.js';
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
  tableau(): ReturnType<typeof createTableauSource>;
  destinationFor(exp: ExportConfig): Destination & { check?: () => Promise<unknown> };
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
  return { webhookUrl, rowDropShare: exp.notify.rowDropShare };
}

/** Collects the values of every env var the config names, so the redactor knows them before anything logs. */
export function secretValues(config: Config, env: NodeJS.ProcessEnv): string[] {
  const names: (string | undefined)[] = [];
  const auth = config.tableau?.auth;
  if (auth?.type === 'pat') names.push(auth.tokenSecretEnv);
  if (auth?.type === 'connected-app') names.push(auth.secretValueEnv, auth.secretIdEnv);
  if (auth?.type === 'password') names.push(auth.passwordEnv);
  names.push(config.onedrive?.clientSecretEnv, config.queue?.redisUrlEnv);
  for (const e of config.exports) names.push(e.notify?.webhookUrlEnv);
  return names.flatMap((n) => (n === undefined || env[n] === undefined || env[n] === '' ? [] : [env[n]]));
}

export function createAppContext(loaded: LoadedConfig, options: AppContextOptions): AppContext {
  const env = options.env ?? process.env;
  const { config } = loaded;
  const redactor = options.redactor ?? createRedactor();
  for (const s of secretValues(config, env)) redactor.addSecret(s);
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const tempDir = join(config.stateDir, 'tmp');

  const requireEnv = (name: string, path: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new ConfigError([
        {
          file: loaded.file,
          line: undefined,
          path,
          message: `environment variable ${name} is not set; export it before running (secrets are read from the environment only)`,
        },
      ]);
    }
    return value;
  };

  const readSecretFile = (path: string, key: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError([
        {
          file: loaded.file,
          line: undefined,
          path: key,
          message: `cannot read the file its environment variable points to (${code}); check the path and that this user may read it`,
        },
      ]);
    }
  };

  let tableauSource: ReturnType<typeof createTableauSource> | undefined;
  const tableau = (): ReturnType<typeof createTableauSource> => {
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
    const a = t.auth;
    const auth: TableauSourceOptions['auth'] =
      a.type === 'pat'
        ? {
            type: 'pat',
            tokenName: requireEnv(a.tokenNameEnv, 'tableau.auth.tokenNameEnv'),
            tokenSecret: requireEnv(a.tokenSecretEnv, 'tableau.auth.tokenSecretEnv'),
          }
        : a.type === 'connected-app'
          ? {
              type: 'connected-app',
              clientId: requireEnv(a.clientIdEnv, 'tableau.auth.clientIdEnv'),
              secretId: requireEnv(a.secretIdEnv, 'tableau.auth.secretIdEnv'),
              secretValue: requireEnv(a.secretValueEnv, 'tableau.auth.secretValueEnv'),
              username: a.username,
              ...(a.scopes === undefined ? {} : { scopes: a.scopes }),
            }
          : {
              type: 'password',
              username: requireEnv(a.usernameEnv, 'tableau.auth.usernameEnv'),
              password: requireEnv(a.passwordEnv, 'tableau.auth.passwordEnv'),
            };
    tableauSource = createTableauSource(
      {
        serverUrl: t.serverUrl,
        site: t.site,
        apiVersion: t.apiVersion,
        auth,
        ...(t.caFile === undefined ? {} : { caFile: t.caFile }),
        maxConcurrentExports: t.maxConcurrentExports,
        pageSize: t.pageSize,
        connectTimeoutMs: t.connectTimeout,
        idleTimeoutMs: t.idleTimeout,
        maxBytes: t.maxBytes,
        retry: toRetryPolicy(t.retry),
      },
      { logger, redactor, clock, sleep: realSleep },
    );
    return tableauSource;
  };

  const csvSource = createCsvSource({ baseDir: loaded.baseDir });
  const sourceFor = (view: ViewConfig): Source => (view.file !== undefined ? csvSource : tableau());

  const graphAuths = createGraphAuthRegistry({ logger, redactor });
  const destinations = new Map<string, Destination & { check?: () => Promise<unknown> }>();
  const destinationFor = (exp: ExportConfig): Destination & { check?: () => Promise<unknown> } => {
    let cached = destinations.get(exp.id);
    if (cached === undefined) {
      cached = buildDestination(exp);
      destinations.set(exp.id, cached);
    }
    return cached;
  };
  const buildDestination = (exp: ExportConfig): Destination & { check?: () => Promise<unknown> } => {
    const d = exp.destination;
    if (d.type === 'local')
      return createLocalDestination({
        dir: d.dir,
        fileName: d.fileName ?? `${exp.id}.xlsx`,
        skipUnchanged: d.skipUnchanged,
      });
    const od = config.onedrive;
    if (od === undefined)
      throw new ConfigError([
        {
          file: loaded.file,
          line: undefined,
          path: 'onedrive',
          message: 'a onedrive destination needs the top-level "onedrive" section',
        },
      ]);
    const endpoints =
      od.authorityHost !== undefined && od.graphBaseUrl !== undefined
        ? { authorityHost: od.authorityHost, graphBaseUrl: od.graphBaseUrl }
        : resolveCloud(od.cloud);
    const credential: GraphCredential =
      od.clientSecretEnv !== undefined
        ? { clientSecret: requireEnv(od.clientSecretEnv, 'onedrive.clientSecretEnv') }
        : {
            certificate: {
              privateKey: readSecretFile(
                requireEnv(od.certificate?.privateKeyFileEnv ?? '', 'onedrive.certificate.privateKeyFileEnv'),
                'onedrive.certificate.privateKeyFileEnv',
              ),
              ...((od.certificate?.thumbprint.length ?? 0) === 64
                ? { thumbprintSha256: od.certificate?.thumbprint ?? '' }
                : { thumbprint: od.certificate?.thumbprint ?? '' }),
              ...(od.certificate?.x5cFileEnv === undefined
                ? {}
                : {
                    x5c: readSecretFile(
                      requireEnv(od.certificate.x5cFileEnv, 'onedrive.certificate.x5cFileEnv'),
                      'onedrive.certificate.x5cFileEnv',
                    ),
                  }),
            },
          };
    const authOptions = {
      tenantId: od.tenantId,
      clientId: od.clientId,
      credential,
      ...endpoints,
      ...(od.caFile === undefined ? {} : { caFile: od.caFile }),
    };
    const auth = graphAuths.get(authOptions);
    const destination = createOneDriveDestination(
      {
        ...authOptions,
        drive: d.drive,
        path: d.path,
        onLocked: { retryForMs: d.onLocked.retryFor, then: d.onLocked.then },
        uploadSessionThresholdBytes: d.uploadSessionThreshold,
        chunkBytes: d.chunkSize,
        retry: toRetryPolicy(od.retry),
        skipUnchanged: d.skipUnchanged,
      },
      { logger, redactor, clock, sleep: realSleep, auth },
    );
    return {
      describe: () => destination.describe(),
      deliver: (f, c) => destination.deliver(f, c),
      check: () => destination.resolveTarget({}),
    };
  };

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
    async runOne(exportId, opts) {
      const exp = findExport(exportId);
      // Resolve credentials before anything starts, so a missing secret is a config error (exit 2) for every source
      // and destination alike, never a half-started run.
      const destination = destinationFor(exp);
      if (exp.views.some((v) => v.file === undefined)) tableau();
      const dryRun = opts.dryRun ?? false;
      await mkdir(tempDir, { recursive: true });
      await sweepOrphanedRuns(tempDir, { store: store(), logger, now: clock.now() });
      if (exp.metrics !== undefined) snapshots ??= createSnapshotStore(database());
      return runExport(
        {
          exportConfig: exp,
          timezone: exportTimezone(exp),
          runId: opts.runId ?? newRunId(),
          trigger: opts.trigger,
          dryRun,
          ...(opts.attempt === undefined ? {} : { attempt: opts.attempt }),
        },
        {
          sourceFor,
          destination,
          logger: opts.logger ?? logger,
          clock,
          redactor,
          tempDir,
          // A dry run delivers nothing, so it is not history: it must not become the "last success" or a recovery.
          store: dryRun ? undefined : store(),
          snapshots: exp.metrics === undefined ? undefined : snapshots,
          signal: opts.signal,
          onProgress: opts.onProgress,
          onStart: opts.onStart,
          toolVersion: TOOL_VERSION,
          defaultMaxAgeMinutes: config.tableau?.maxAgeMinutes,
        },
      );
    },
    afterRun,
    async close() {
      if (options.store === undefined) await runStore?.close().catch(() => undefined);
      if (ownsDb) db?.close();
    },
  };
}

/** The retry section of the config as the HTTP layers take it. */
export function toRetryPolicy(r: RetryConfig): RetryPolicy {
  return {
    maxAttempts: r.attempts,
    baseDelayMs: r.initialDelay,
    maxDelayMs: r.maxDelay,
    maxRetryAfterMs: r.maxRetryAfter,
    maxTotalMs: r.giveUpAfter,
  };
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

/** Sortable, unique run ids: `20261127T060000Z-3f9a1c2b`. */
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}-${randomUUID().slice(0, 8)}`;
}
