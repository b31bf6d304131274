/**
 * The configuration file's schema (zod). Every key is described; secrets are never values here, only the names of
 * environment variables that hold them (`...Env` keys). Cross-field rules live in `rules.ts`.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { validateSchedule } from '../shared/cron-schedule.js';
import { LANGUAGES } from '../shared/i18n/translator.js';
import { redisUrlPasswordPlace } from '../shared/redis-url.js';
import { metricsConfigSchema } from '../transforms/metrics/config.js';

/** True when `zone` is an IANA time zone this Node.js knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

const timeZone = z.string().refine(isValidTimeZone, {
  message: 'is not an IANA time zone; write e.g. Europe/Paris, America/New_York or UTC',
});

const cronExpression = z.string().superRefine((v, ctx) => {
  const problem = validateSchedule(v, 'UTC');
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  message: 'must be the NAME of an environment variable (letters, digits, _), not a value',
});

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not a duration; write e.g. 30m, 90s, 1h30m` });
    return z.NEVER;
  }
  return ms;
});

// Credentials travel to these URLs: plain http is refused.
const httpsUrl = z.url({
  protocol: /^https$/,
  message: 'must be an absolute https:// URL such as https://tableau.example.com',
});

/** Retry of transient failures (408/429/5xx/network) with exponential backoff, jitter and Retry-After. */
export const retrySchema = z
  .strictObject({
    attempts: z.number().int().min(1).max(50).default(6).describe('Attempts per request, including the first'),
    initialDelay: duration
      .default(500)
      .describe('First backoff delay, doubled each attempt, with jitter (default 500ms)'),
    maxDelay: duration.default(30_000).describe('Longest backoff delay (default 30s)'),
    maxRetryAfter: duration.default(300_000).describe('Longest server Retry-After honoured (default 5m)'),
    giveUpAfter: duration.default(600_000).describe('Stop retrying a request after this long in total (default 10m)'),
  })
  .describe('Retry policy for transient failures');

export type RetryConfig = z.infer<typeof retrySchema>;

const DEFAULT_RETRY = {
  attempts: 6,
  initialDelay: 500,
  maxDelay: 30_000,
  maxRetryAfter: 300_000,
  giveUpAfter: 600_000,
};

export const tableauAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z
      .literal('pat')
      .describe('Personal access token (recommended). One live session per PAT: runs sharing it are serialised.'),
    tokenNameEnv: envName.describe('Env var holding the PAT name'),
    tokenSecretEnv: envName.describe('Env var holding the PAT secret'),
  }),
  z.strictObject({
    type: z
      .literal('connected-app')
      .describe('Connected app (direct trust) JWT sign-in; a fresh JWT is minted per sign-in'),
    clientIdEnv: envName.describe('Env var holding the connected app client id'),
    secretIdEnv: envName.describe('Env var holding the secret id (JWT kid)'),
    secretValueEnv: envName.describe('Env var holding the secret value (HS256 key)'),
    username: z.string().min(1).describe('Tableau user the JWT signs in as (case-sensitive)'),
    scopes: z
      .array(z.string())
      .optional()
      .describe('Extra scopes; tableau:content:read and tableau:views:download are always included'),
  }),
  z.strictObject({
    type: z.literal('password').describe('Username and password (not possible with MFA on Tableau Cloud)'),
    usernameEnv: envName.describe('Env var holding the user name'),
    passwordEnv: envName.describe('Env var holding the password'),
  }),
]);

export const tableauSchema = z.strictObject({
  serverUrl: httpsUrl.describe('Tableau Server or Cloud pod URL, e.g. https://10ay.online.tableau.com'),
  site: z.string().default('').describe('Site contentUrl; "" is the Default site of Tableau Server'),
  apiVersion: z
    .string()
    .regex(/^(auto|\d+\.\d+)$/, { message: 'must be "auto" or a version like "3.21"' })
    .default('auto')
    .describe('REST API version, or auto (highest both sides support)'),
  auth: tableauAuthSchema,
  caFile: z.string().optional().describe('Extra CA certificate (PEM) for servers with an internal CA'),
  maxConcurrentExports: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(2)
    .describe('Concurrent view-data requests per site (Tableau Cloud allows 20)'),
  maxAgeMinutes: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('maxAge sent with every data request, so scheduled runs never get stale cached data'),
  connectTimeout: duration.default(30_000).describe('Connect timeout (default 30s)'),
  idleTimeout: duration
    .default(300_000)
    .describe(
      'Abort a request that sends nothing for this long, including while Tableau computes the view (default 5m)',
    ),
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3)
    .describe('Refuse view data larger than this many bytes'),
  pageSize: z.number().int().min(1).max(1000).default(100).describe('Page size when listing views/workbooks'),
  retry: retrySchema.default(DEFAULT_RETRY),
});

const certificateSchema = z.strictObject({
  privateKeyFileEnv: envName.describe('Env var holding the PATH of the PEM private key file'),
  thumbprint: z
    .string()
    .regex(/^[0-9A-Fa-f]{40}([0-9A-Fa-f]{24})?$/, { message: 'must be the hex SHA-1 (40) or SHA-256 (64) thumbprint' })
    .describe('Thumbprint of the certificate registered on the app: hex SHA-256 (64, preferred) or SHA-1 (40)'),
  x5cFileEnv: envName
    .optional()
    .describe('Env var holding the PATH of the public certificate chain (PEM), sent as x5c'),
});

export const onedriveSchema = z.strictObject({
  tenantId: z.string().min(1).describe('Entra tenant id (GUID) or domain'),
  clientId: z.string().min(1).describe('App registration (client) id'),
  clientSecretEnv: envName.optional().describe('Env var holding the client secret'),
  certificate: certificateSchema.optional().describe('Certificate credential (preferred over a secret)'),
  cloud: z
    .enum(['global', 'usgov', 'china'])
    .default('global')
    .describe('National cloud; sets authorityHost and graphBaseUrl'),
  authorityHost: httpsUrl.optional().describe('Explicit authority host, overrides cloud'),
  graphBaseUrl: httpsUrl.optional().describe('Explicit Graph base URL, e.g. https://graph.microsoft.com/v1.0'),
  caFile: z.string().optional().describe('Extra CA certificate (PEM) for TLS-inspecting proxies'),
  retry: retrySchema.default(DEFAULT_RETRY),
});

const onLockedSchema = z.strictObject({
  retryFor: duration
    .default(30 * 60_000)
    .describe('How long to retry while the workbook is open in Excel, HTTP 423 (default 30m)'),
  then: z
    .enum(['fail', 'side-by-side'])
    .default('fail')
    .describe('After retryFor: fail, or upload "Name (refreshed YYYY-MM-DD HHmm).xlsx" next to it'),
});

const deliveryMode = z
  .enum(['replace', 'update'])
  .default('replace')
  .describe(
    "replace: every run writes a fresh workbook over the file. update: the file is the team's own workbook; only the export's tables and metric/About sheets are refreshed, everything else is kept byte for byte",
  );

const updateSettings = z
  .strictObject({
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024)
      .describe('Refuse to update a workbook larger than this many bytes (default 256 MiB)'),
    conflictRetries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('When a teammate saves between our download and our upload: download and patch again this many times'),
  })
  .default({ maxBytes: 256 * 1024 * 1024, conflictRetries: 3 })
  .describe('Update mode limits');

export const destinationSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('local').describe('Write into a local or mounted folder, atomically (temp file + rename)'),
    dir: z.string().min(1).describe('Folder to write into (created if missing)'),
    fileName: z.string().optional().describe('File name; default "<export id>.xlsx"'),
    fileMode: z
      // YAML reads an unquoted 0640 as the number 640: its digits are the octal permissions either way.
      .union([z.string(), z.number().int()])
      .transform((v) => String(v))
      .refine((v) => /^0?[0-7]{3}$/.test(v), { message: 'must be octal permissions such as 0640 or 0600' })
      .default('0640')
      .transform((v) => parseInt(v, 8))
      .describe(
        'Permissions of the delivered workbook, octal (default 0640: owner read-write, group read, others none)',
      ),
    mode: deliveryMode,
    update: updateSettings,
    skipUnchanged: z
      .boolean()
      .default(false)
      .describe('Skip writing when the data is unchanged since the last delivery'),
  }),
  z.strictObject({
    type: z
      .literal('onedrive')
      .describe('Upload to OneDrive/SharePoint; the same item is replaced, so links and version history stay'),
    drive: z
      .union([
        z.strictObject({
          user: z.string().min(1).describe('User principal name or id whose OneDrive receives the file'),
        }),
        z.strictObject({ driveId: z.string().min(1).describe('Drive id (b!…), e.g. a document library') }),
        z.strictObject({
          site: z.string().min(1).describe('SharePoint site as host:/path, e.g. contoso.sharepoint.com:/sites/Sales'),
        }),
      ])
      .describe("The drive: a user's OneDrive, a drive id, or a SharePoint site's default library"),
    path: z.string().min(1).describe('Path of the workbook in the drive, e.g. Reports/Sales Pipeline.xlsx'),
    mode: deliveryMode,
    update: updateSettings,
    onLocked: onLockedSchema.default({ retryFor: 30 * 60_000, then: 'fail' }),
    skipUnchanged: z
      .boolean()
      .default(true)
      .describe('Skip the upload when the data is unchanged (keeps version history clean)'),
    uploadSessionThreshold: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024)
      .describe('Files at least this large use a resumable upload session'),
    chunkSize: z
      .number()
      .int()
      .positive()
      .refine((n) => n % 327_680 === 0 && n < 60 * 1024 * 1024, {
        message: 'must be a multiple of 327680 bytes and under 60 MiB',
      })
      .default(327_680 * 16)
      .describe('Upload session fragment size'),
  }),
]);

/** How old a view's data may be (the extract's last refresh), and what a run does with older data. */
export const freshnessSchema = z.strictObject({
  maxAge: duration
    .refine((ms) => ms > 0, { message: 'must be longer than 0, e.g. 26h' })
    .describe("Oldest acceptable data, from the extract's last refresh, e.g. 26h for a nightly refresh"),
  then: z
    .enum(['warn', 'skip', 'fail'])
    .default('warn')
    .describe(
      'Older data: warn (deliver, with a warning and the webhook alert), skip (keep the previous file) or fail the run',
    ),
});

export const dashboardSchema = z.strictObject({
  workbook: z.string().min(1).optional().describe('Workbook of the dashboard'),
  name: z.string().min(1).optional().describe('Dashboard name'),
  project: z.string().min(1).optional().describe('Project name, when workbook names repeat across projects'),
  contentUrl: z.string().min(1).optional().describe('Dashboard contentUrl, e.g. SalesPipeline/sheets/PipelineOverview'),
});

export const viewSchema = z.strictObject({
  workbook: z.string().min(1).optional().describe('Tableau workbook name'),
  view: z.string().min(1).optional().describe('View (sheet) name'),
  project: z.string().min(1).optional().describe('Project name, when workbook names repeat across projects'),
  contentUrl: z.string().min(1).optional().describe('View contentUrl, e.g. SalesPipeline/sheets/Opportunities'),
  viewId: z.string().min(1).optional().describe('View LUID'),
  dashboard: dashboardSchema
    .optional()
    .describe(
      "A whole dashboard instead of one view: every worksheet it shows, each on its own sheet named after it, in the dashboard's order ({ workbook, name } or { contentUrl })",
    ),
  file: z.string().min(1).optional().describe('Local CSV file (offline use); relative to the config file'),
  sheet: z.string().min(1).optional().describe('Sheet name in the workbook; default the view name'),
  table: z
    .string()
    .regex(/^[\p{L}_\\][\p{L}\p{N}_.]{0,254}$/u, {
      message: 'must be a valid Excel table name: a letter or _ first, then letters, digits, _ or . (no spaces)',
    })
    .optional()
    .describe('Update mode: the Excel table this view refreshes; default the sheet name made into a table name'),
  key: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Update mode: the column that identifies a row, so teammates' own columns follow their row; default metrics.columns.id when the view has it",
    ),
  filters: z
    .record(
      z.string(),
      z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))]),
    )
    .default({})
    .describe('vf_ filters: field caption → value or list of values (OR)'),
  parameters: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .default({})
    .describe('Tableau parameters (vf_Parameters.<name>)'),
  pivot: z.boolean().default(true).describe('Pivot Measure Names/Measure Values to one column per measure'),
  maxAgeMinutes: z.number().int().min(1).optional().describe('Override tableau.maxAgeMinutes for this view'),
  onEmpty: z
    .enum(['warn', 'fail'])
    .default('warn')
    .describe('An empty or unfiltered result: warning (default) or failed run'),
  freshness: freshnessSchema.optional().describe("Data age guard for this view; overrides the export's freshness"),
});

/** One export fanned out per value of a field: one sheet per value, or one workbook per value. */
export const burstSchema = z
  .strictObject({
    by: z.string().min(1).describe('Field (as Tableau names it) whose values split the export, e.g. Region or Owner'),
    values: z
      .union([z.literal('all'), z.array(z.union([z.string().min(1), z.number(), z.boolean()])).min(1)])
      .describe(
        'The values, each fetched with its own vf_ filter; all = the distinct values of the field in the first view, read unfiltered in the same run',
      ),
    into: z
      .enum(['sheets', 'files'])
      .default('files')
      .describe(
        'files: one workbook per value, at the destination path (or local fileName) with {<by>} filled in. sheets: one workbook with one sheet per value and view',
      ),
  })
  .describe('One part per value of a field: each regional manager or rep gets their own workbook or sheet');

export const exportSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
      message: 'must be 1-64 chars of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
    })
    .describe('Unique id (a-z, 0-9, . _ -), used in file names, URLs and the run history'),
  description: z.string().optional().describe('Free text shown in the About sheet'),
  schedule: cronExpression
    .optional()
    .describe('Cron expression, 5 fields (minute hour day-of-month month day-of-week); absent = manual runs only'),
  timezone: timeZone
    .optional()
    .describe('IANA time zone of the schedule and of dates in the workbook; default the top-level timezone'),
  catchUp: z
    .boolean()
    .default(false)
    .describe('Run once at start if a scheduled time was missed while the service was down'),
  views: z
    .array(viewSchema)
    .min(1, { message: 'an export needs at least one view' })
    .describe('One sheet per view, in this order'),
  metrics: metricsConfigSchema.optional(),
  freshness: freshnessSchema
    .optional()
    .describe("Data age guard for every view of the export (a view's own freshness overrides it)"),
  burst: burstSchema.optional(),
  workbook: z
    .strictObject({
      language: z
        .enum(LANGUAGES)
        .default('en')
        .describe(
          "Language of every text the tool writes: sheet names, labels, KPI names, definitions, notes, chart titles (en, fr, de, es); Tableau's own column names and the data stay as they are",
        ),
    })
    .prefault({})
    .describe('How the workbook reads'),
  destination: destinationSchema.describe(
    'Where the workbook is delivered: a OneDrive/SharePoint path or a local folder',
  ),
  notify: z
    .strictObject({
      webhookUrlEnv: envName.describe(
        'Env var holding the webhook URL (https only): a Teams or Slack incoming webhook, or any JSON receiver',
      ),
      format: z
        .enum(['teams', 'slack', 'json'])
        .optional()
        .describe(
          'Message shape: teams (Adaptive Card), slack (blocks + text), json (plain object); default from the host: hooks.slack.com → slack, *.webhook.office.com, *.logic.azure.com, *.api.powerplatform.com → teams, else json',
        ),
      allowPrivate: z
        .boolean()
        .default(false)
        .describe(
          'Allow a webhook on a loopback, link-local or private address (an internal chat server); refused otherwise, also when the host name resolves to one',
        ),
      caFile: z.string().optional().describe('Extra CA certificate (PEM) for a webhook server with an internal CA'),
      rowDropShare: z
        .number()
        .min(0)
        .max(1)
        .default(0.5)
        .describe('Alert when rows drop by more than this share against the last success'),
    })
    .optional(),
  zipLevel: z
    .number()
    .int()
    .min(0)
    .max(9)
    .default(1)
    .describe(
      'Deflate level of the .xlsx: 1 = fast (about the size exceljs writes by default), 6 = about 20% smaller, slower',
    ),
});

const DEFAULT_FAILED_LOGINS = { limit: 10, window: 60_000, maxBackoff: 900_000 };

export const configSchema = z.strictObject({
  timezone: timeZone.default('UTC').describe('Default IANA time zone'),
  stateDir: z
    .string()
    .default('./data')
    .describe('Run history, snapshots and temp files (relative to the config file)'),
  tableau: tableauSchema.optional().describe('The Tableau Server or Cloud site views are read from'),
  onedrive: onedriveSchema
    .optional()
    .describe('The Entra app used to write to OneDrive/SharePoint (app-only, Microsoft Graph)'),
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65535).optional().describe('Admin API port (or --port, or PORT; default 8080)'),
      host: z.string().default('127.0.0.1').describe('Listen address; 0.0.0.0 in containers'),
      shutdownGrace: duration
        .default(60_000)
        .describe('On SIGTERM, how long running exports may take to finish (default 60s)'),
      failedLogins: z
        .strictObject({
          limit: z
            .number()
            .int()
            .min(1)
            .default(10)
            .describe('Failed admin logins from one address within `window` that block it (HTTP 429)'),
          window: duration
            .default(60_000)
            .describe('The counting window, and the first block (default 1m); each further block doubles'),
          maxBackoff: duration.default(900_000).describe('Longest block (default 15m)'),
        })
        .default(DEFAULT_FAILED_LOGINS)
        .describe('Backoff after failed admin logins (a token presented and refused), per remote address'),
    })
    .default({ host: '127.0.0.1', shutdownGrace: 60_000, failedLogins: DEFAULT_FAILED_LOGINS }),
  queue: z
    .strictObject({
      redis: z
        .string()
        .superRefine((u, ctx) => {
          const where = redisUrlPasswordPlace(u);
          if (where !== undefined)
            ctx.addIssue({
              code: 'custom',
              message: `holds a password (${where}); put the URL in an environment variable and name it with redisUrlEnv`,
            });
        })
        .optional()
        .describe(
          'Redis URL without a password (neither redis://:pw@ nor ?password=), e.g. redis://redis:6379/0; with a password: redisUrlEnv',
        ),
      redisUrlEnv: envName.optional().describe('Env var holding the Redis URL (instead of redis)'),
      prefix: z
        .string()
        .min(1)
        .default('tableau-export')
        .describe('Prefix of every Redis key (several deployments can share one Redis)'),
      concurrency: z.number().int().min(1).default(2).describe('Runs per worker process'),
      siteConcurrency: z
        .number()
        .int()
        .min(1)
        .max(20)
        .optional()
        .describe('Concurrent exports per Tableau site across all workers; default tableau.maxConcurrentExports'),
      attempts: z
        .number()
        .int()
        .min(2)
        .max(10)
        .default(2)
        .describe('Attempts per run: a run whose worker died is retried by another worker'),
      lockDuration: duration
        .default(30_000)
        .describe('A run whose worker stops renewing its lock this long is retried elsewhere (default 30s)'),
      stalledInterval: duration.default(30_000).describe('How often workers look for stalled runs (default 30s)'),
    })
    .optional(),
  exports: z
    .array(exportSchema)
    .min(1, { message: 'add at least one export' })
    .describe('The exports: each builds one workbook'),
});

export type Config = z.infer<typeof configSchema>;
export type ExportConfig = z.infer<typeof exportSchema>;
export type ViewConfig = z.infer<typeof viewSchema>;
export type FreshnessConfig = z.infer<typeof freshnessSchema>;
export type DashboardConfig = z.infer<typeof dashboardSchema>;
export type BurstConfig = z.infer<typeof burstSchema>;
export type DestinationConfig = z.infer<typeof destinationSchema>;
export type TableauConfig = z.infer<typeof tableauSchema>;
export type OneDriveConfig = z.infer<typeof onedriveSchema>;
