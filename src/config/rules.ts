/**
 * Named cross-field rules: what the schema alone cannot say. Each rule returns issues as `{ path, message }`; the
 * loader adds file and line. Rules run on whatever parsed of each export ({@link ExportParts}), even when other
 * parts of it failed the schema, so every problem is reported at once.
 */
import type { BurstConfig, Config, DestinationConfig, ExportConfig, ViewConfig } from './schema.js';
import { burstSchema, destinationSchema, viewSchema } from './schema.js';
import { checkBurstTemplate, renderBurstPath } from '../shared/burst-names.js';
import { validateDrivePath } from '../shared/drive-path.js';
import { localFileNameProblem } from '../shared/local-file-name.js';
import { webhookUrlProblem } from '../shared/network-address.js';
import { closest } from './friendly-issues.js';
import { checkMetricsConfig, metricsConfigSchema, type MetricsConfig } from '../transforms/metrics/config.js';

export interface RuleIssue {
  readonly path: (string | number)[];
  readonly message: string;
  /** Warnings are printed by `validate` but do not fail it. */
  readonly severity?: 'error' | 'warning';
}

type TopLevel = Partial<Pick<Config, 'tableau' | 'onedrive' | 'queue'>> & {
  /** Sections written in the file although they failed the schema (their own errors are reported already). */
  readonly written?: { readonly tableau: boolean; readonly onedrive: boolean };
};

/** What could be read of one export: the parts that parse, for the rules to check even when others do not. */
export interface ExportParts {
  readonly index: number;
  readonly id: string | undefined;
  /** Each view's sheet name as written, also for views that fail the schema (undefined: not even an object). */
  readonly sheetNames: readonly (string | undefined)[];
  /** The views that parse, with their index. */
  readonly views: readonly { readonly index: number; readonly value: ViewConfig }[];
  readonly destination: DestinationConfig | undefined;
  readonly metrics: MetricsConfig | undefined;
  readonly burst?: BurstConfig | undefined;
}

/** The parts of an export that parsed whole. */
export function partsOfExport(index: number, exp: ExportConfig): ExportParts {
  return {
    index,
    id: exp.id,
    sheetNames: exp.views.map(viewSheetName),
    views: exp.views.map((value, vi) => ({ index: vi, value })),
    destination: exp.destination,
    metrics: exp.metrics,
    burst: exp.burst,
  };
}

/** The parts of an export (raw YAML data) that parse on their own, when the export as a whole does not. */
export function readExportParts(index: number, raw: unknown): ExportParts {
  const exp = isRecord(raw) ? raw : {};
  const views = Array.isArray(exp['views']) ? (exp['views'] as unknown[]) : [];
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    index,
    id: text(exp['id']),
    sheetNames: views.map((v) =>
      isRecord(v)
        ? viewSheetName({
            sheet: text(v['sheet']),
            view: text(v['view']),
            file: text(v['file']),
            contentUrl: text(v['contentUrl']),
            viewId: text(v['viewId']),
            dashboard: isRecord(v['dashboard'])
              ? { name: text(v['dashboard']['name']), contentUrl: text(v['dashboard']['contentUrl']) }
              : undefined,
          })
        : undefined,
    ),
    views: views.flatMap((v, vi) => {
      const parsed = viewSchema.safeParse(v);
      return parsed.success ? [{ index: vi, value: parsed.data }] : [];
    }),
    destination: destinationSchema.safeParse(exp['destination']).data,
    metrics: exp['metrics'] === undefined ? undefined : metricsConfigSchema.safeParse(exp['metrics']).data,
    burst: exp['burst'] === undefined ? undefined : burstSchema.safeParse(exp['burst']).data,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The sheet a view lands on before sanitising: `sheet`, else the view name, else the CSV file's base name. A
 * dashboard entry fills one sheet per worksheet at run time; its name here (the dashboard's) is for config checks.
 */
export function viewSheetName(
  view: Pick<ViewConfig, 'sheet' | 'view' | 'file' | 'contentUrl' | 'viewId'> & {
    readonly dashboard?: { readonly name?: string | undefined; readonly contentUrl?: string | undefined } | undefined;
  },
): string {
  if (view.sheet !== undefined) return view.sheet;
  if (view.dashboard !== undefined)
    return view.dashboard.name ?? view.dashboard.contentUrl?.replace(/^.*\//, '') ?? 'Dashboard';
  if (view.view !== undefined) return view.view;
  if (view.file !== undefined) return view.file.replace(/^.*[\\/]/, '').replace(/\.csv$/i, '');
  if (view.contentUrl !== undefined) return view.contentUrl.replace(/^.*\//, '');
  return view.viewId ?? 'Data';
}

/** Rule: export ids are unique. */
function uniqueExportIds(exports: readonly ExportParts[]): RuleIssue[] {
  const seen = new Map<string, number>();
  const issues: RuleIssue[] = [];
  for (const { index, id } of exports) {
    if (id === undefined) continue;
    const first = seen.get(id);
    if (first !== undefined)
      issues.push({
        path: ['exports', index, 'id'],
        message: `duplicate export id "${id}" (also exports[${first}]); ids must be unique`,
      });
    else seen.set(id, index);
  }
  return issues;
}

/** Rule: each view is addressed exactly one way, and the addressing matches the configured source. */
function viewAddressing(exp: ExportParts, top: TopLevel): RuleIssue[] {
  const { index } = exp;
  const issues: RuleIssue[] = [];
  exp.views.forEach(({ index: vi, value: v }) => {
    const path = ['exports', index, 'views', vi];
    const forms = [
      v.workbook !== undefined || v.view !== undefined,
      v.contentUrl !== undefined,
      v.viewId !== undefined,
      v.file !== undefined,
      v.dashboard !== undefined,
    ].filter(Boolean).length;
    if (forms !== 1) {
      issues.push({
        path,
        message:
          'address the view exactly one way: { workbook, view } or contentUrl or viewId (Tableau), dashboard (a whole Tableau dashboard), or file (local CSV)',
      });
      return;
    }
    issues.push(...dashboardAddressing(v, path));
    if ((v.workbook === undefined) !== (v.view === undefined)) {
      issues.push({ path, message: 'give both workbook and view names' });
    }
    if (v.file === undefined && top.tableau === undefined && top.written?.tableau !== true) {
      issues.push({
        path,
        message:
          'this view comes from Tableau but the config has no top-level "tableau" section; add one (serverUrl, site, auth)',
      });
    }
    if (v.file !== undefined && (Object.keys(v.filters).length > 0 || Object.keys(v.parameters).length > 0)) {
      issues.push({
        path: [...path, 'filters'],
        message: 'filters and parameters apply to Tableau views only, not to CSV files',
      });
    }
  });
  return issues;
}

/** Rule: a dashboard is named one way, and its sheets are named after its worksheets (so no `sheet`/`table`/`key`). */
function dashboardAddressing(v: ViewConfig, path: (string | number)[]): RuleIssue[] {
  const d = v.dashboard;
  if (d === undefined) return [];
  const issues: RuleIssue[] = [];
  const byName = d.workbook !== undefined || d.name !== undefined;
  if (byName === (d.contentUrl !== undefined) || (byName && (d.workbook === undefined || d.name === undefined))) {
    issues.push({
      path: [...path, 'dashboard'],
      message: 'name the dashboard one way: { workbook, name } (optionally project) or { contentUrl }',
    });
  }
  for (const key of ['sheet', 'table', 'key'] as const) {
    if (v[key] !== undefined)
      issues.push({
        path: [...path, key],
        message: `a dashboard fills one sheet per worksheet, each named after its worksheet: remove "${key}" (or export the worksheets one by one with view:)`,
      });
  }
  return issues;
}

/** Rule: sheet names are unique within an export (case-insensitively, as Excel compares them). */
function uniqueSheetNames(exp: ExportParts): RuleIssue[] {
  const seen = new Map<string, number>();
  const issues: RuleIssue[] = [];
  exp.sheetNames.forEach((name, vi) => {
    if (name === undefined) return;
    const first = seen.get(name.toLowerCase());
    if (first !== undefined) {
      issues.push({
        path: ['exports', exp.index, 'views', vi, 'sheet'],
        message: `sheet name "${name}" is already used by views[${first}]; set a distinct "sheet:"`,
      });
    } else seen.set(name.toLowerCase(), vi);
  });
  return issues;
}

/** Rule: a OneDrive destination needs the onedrive section with one credential, and a valid path. */
function destinationRules(exp: ExportParts, top: TopLevel): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const d = exp.destination;
  if (d === undefined) return issues;
  const path = ['exports', exp.index, 'destination'];
  if (d.type === 'onedrive') {
    if (top.onedrive === undefined && top.written?.onedrive !== true)
      issues.push({
        path,
        message:
          'destination is onedrive but the config has no top-level "onedrive" section (tenantId, clientId, clientSecretEnv or certificate)',
      });
    const checked = validateDrivePath(d.path);
    for (const e of checked.errors) issues.push({ path: [...path, 'path'], message: e });
    for (const w of checked.warnings) issues.push({ path: [...path, 'path'], message: w, severity: 'warning' });
    if (!/\.xlsx$/i.test(d.path)) issues.push({ path: [...path, 'path'], message: 'must end with .xlsx' });
  } else if (d.fileName !== undefined) {
    // A burst into files may put each value in its own folder under dir (`{Region}/Pipeline {Region}.xlsx`); the
    // last segment is the file name, checked by the very rule the local destination applies at run time, so
    // validate, run and serve agree.
    const folders = exp.burst?.into === 'files' ? d.fileName.split('/') : [d.fileName];
    const fileName = folders.pop() ?? '';
    const problem = folders.some((f) => f === '' || f === '.' || f === '..' || f.includes('\\'))
      ? 'has an empty, "." or ".." folder, or a backslash'
      : localFileNameProblem(fileName);
    if (problem !== undefined)
      issues.push({
        path: [...path, 'fileName'],
        message: `${JSON.stringify(d.fileName)} ${problem}; must be a plain file name ending with .xlsx (put folders in "dir")`,
      });
  }
  return issues;
}

function topLevelRules(top: TopLevel): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const od = top.onedrive;
  if (od !== undefined) {
    if ((od.clientSecretEnv === undefined) === (od.certificate === undefined)) {
      issues.push({ path: ['onedrive'], message: 'give exactly one credential: clientSecretEnv or certificate' });
    }
    if ((od.authorityHost === undefined) !== (od.graphBaseUrl === undefined)) {
      issues.push({
        path: ['onedrive'],
        message: 'set authorityHost and graphBaseUrl together (or neither, and use cloud:)',
      });
    }
  }
  const q = top.queue;
  if (q !== undefined && (q.redis === undefined) === (q.redisUrlEnv === undefined)) {
    issues.push({ path: ['queue'], message: 'give exactly one of redis (URL) or redisUrlEnv' });
  }
  return issues;
}

/** Rule: metrics read a sheet of the same export, and their own cross-field rules hold. */
function metricsRules(exp: ExportParts): RuleIssue[] {
  if (exp.metrics === undefined) return [];
  const { index } = exp;
  const issues: RuleIssue[] = [];
  const sheets = exp.sheetNames.filter((s): s is string => s !== undefined);
  // A dashboard's worksheets are known only online (validate --online, or the run): its sheets may hold `from`.
  const hasDashboard = exp.views.some((v) => v.value.dashboard !== undefined);
  if (!sheets.includes(exp.metrics.from) && !hasDashboard) {
    issues.push({
      path: ['exports', index, 'metrics', 'from'],
      message: `"${exp.metrics.from}" is not a sheet of this export;${suggest(exp.metrics.from, sheets)} sheets: ${sheets.map((s) => `"${s}"`).join(', ')}`,
    });
  }
  for (const i of checkMetricsConfig(exp.metrics))
    issues.push({ path: ['exports', index, 'metrics', ...i.path], message: i.message });
  return issues;
}

/**
 * Rule: a burst filters Tableau views (never CSV files, never a field a view already filters on); into files, the
 * destination path (or local fileName) names `{by}` and every listed value gives a valid, distinct path; into sheets,
 * no placeholder and no update mode (a burst workbook is rebuilt whole).
 */
function burstRules(exp: ExportParts): RuleIssue[] {
  const b = exp.burst;
  if (b === undefined) return [];
  const path = ['exports', exp.index, 'burst'];
  const issues: RuleIssue[] = [];
  for (const { index: vi, value: v } of exp.views) {
    if (v.file !== undefined)
      issues.push({
        path: ['exports', exp.index, 'views', vi],
        message:
          'a burst splits Tableau views with vf_ filters; a CSV file view cannot be split (remove burst or the file view)',
      });
    if (v.dashboard !== undefined)
      issues.push({
        path: ['exports', exp.index, 'views', vi, 'dashboard'],
        message:
          "a burst cannot split a whole dashboard yet (its sheets are known only online); list the dashboard's worksheets as views instead",
      });
    if (Object.keys(v.filters).some((f) => f === b.by))
      issues.push({
        path: ['exports', exp.index, 'views', vi, 'filters', b.by],
        message: `the burst sets the filter "${b.by}" for each part; remove it from the view's filters (or list the values in burst.values)`,
      });
  }
  const d = exp.destination;
  if (d === undefined) return issues;
  const key = d.type === 'onedrive' ? 'path' : 'fileName';
  const template = d.type === 'onedrive' ? d.path : d.fileName;
  if (b.into === 'sheets') {
    if (template?.includes(`{${b.by}}`) === true)
      issues.push({
        path: ['exports', exp.index, 'destination', key],
        message: `{${b.by}} is filled in only with burst.into: files (into: sheets writes one workbook); remove it or use into: files`,
      });
    if (d.mode === 'update')
      issues.push({
        path: [...path, 'into'],
        message:
          'into: sheets builds one workbook whole, so it cannot update a team workbook; use into: files or mode: replace',
      });
    return issues;
  }
  if (template === undefined) {
    issues.push({
      path: ['exports', exp.index, 'destination', 'fileName'],
      message: `a burst into files needs a file name template; for example: fileName: "Pipeline {${b.by}}.xlsx"`,
    });
    return issues;
  }
  for (const problem of checkBurstTemplate(template, b.by))
    issues.push({ path: ['exports', exp.index, 'destination', key], message: problem });
  if (b.values !== 'all' && templateOk(template, b.by))
    issues.push(...burstValuePaths(b, template, [...path, 'values']));
  return issues;
}

function templateOk(template: string, by: string): boolean {
  return checkBurstTemplate(template, by).length === 0;
}

/** Each listed value's path: valid once made safe, renamed (a warning), and distinct from the other values' paths. */
function burstValuePaths(b: BurstConfig, template: string, path: (string | number)[]): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const seen = new Map<string, string>();
  (b.values === 'all' ? [] : b.values).forEach((raw, i) => {
    const value = String(raw);
    const rendered = renderBurstPath(template, b.by, value);
    for (const e of rendered.errors) issues.push({ path: [...path, i], message: `value "${value}": ${e}` });
    if (rendered.renamed)
      issues.push({
        path: [...path, i],
        message: `value "${value}" has characters OneDrive or Windows refuse in a name; its file is "${rendered.path}"`,
        severity: 'warning',
      });
    const first = seen.get(rendered.path.toLowerCase());
    if (first !== undefined)
      issues.push({
        path: [...path, i],
        message: `values "${first}" and "${value}" both give the file "${rendered.path}"; list one of them only`,
      });
    else seen.set(rendered.path.toLowerCase(), value);
  });
  return issues;
}

/** ` did you mean "Opportunities"?` for a near miss, else nothing. */
function suggest(word: string, candidates: readonly string[]): string {
  const close = closest(word, candidates);
  return close === undefined ? '' : ` did you mean "${close}"?`;
}

/** Rule (validate only): every env var the config names is set. */
export function missingEnvVars(config: Config, env: NodeJS.ProcessEnv): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const need = (path: (string | number)[], name: string | undefined): void => {
    if (name !== undefined && (env[name] === undefined || env[name] === ''))
      issues.push({ path, message: `environment variable ${name} is not set` });
  };
  const auth = config.tableau?.auth;
  if (auth?.type === 'pat') {
    need(['tableau', 'auth', 'tokenNameEnv'], auth.tokenNameEnv);
    need(['tableau', 'auth', 'tokenSecretEnv'], auth.tokenSecretEnv);
  } else if (auth?.type === 'connected-app') {
    need(['tableau', 'auth', 'clientIdEnv'], auth.clientIdEnv);
    need(['tableau', 'auth', 'secretIdEnv'], auth.secretIdEnv);
    need(['tableau', 'auth', 'secretValueEnv'], auth.secretValueEnv);
  } else if (auth?.type === 'password') {
    need(['tableau', 'auth', 'usernameEnv'], auth.usernameEnv);
    need(['tableau', 'auth', 'passwordEnv'], auth.passwordEnv);
  }
  if (config.exports.some((e) => e.destination.type === 'onedrive')) {
    need(['onedrive', 'clientSecretEnv'], config.onedrive?.clientSecretEnv);
    need(['onedrive', 'certificate', 'privateKeyFileEnv'], config.onedrive?.certificate?.privateKeyFileEnv);
  }
  need(['queue', 'redisUrlEnv'], config.queue?.redisUrlEnv);
  config.exports.forEach((e, i) => need(['exports', i, 'notify', 'webhookUrlEnv'], e.notify?.webhookUrlEnv));
  return issues;
}

/**
 * Rule (wherever the environment is read): every webhook URL the environment holds is https, and not this machine or
 * a non-public IP literal unless the export says `allowPrivate: true`. Messages name the variable, never the URL.
 */
export function webhookUrlIssues(config: Config, env: NodeJS.ProcessEnv): RuleIssue[] {
  return config.exports.flatMap((e, i) => {
    const name = e.notify?.webhookUrlEnv;
    const url = name === undefined ? undefined : env[name];
    if (e.notify === undefined || url === undefined || url === '') return [];
    const problem = webhookUrlProblem(url, e.notify.allowPrivate);
    if (problem === undefined) return [];
    return [
      {
        path: ['exports', i, 'notify', 'webhookUrlEnv'],
        message: `the URL in environment variable ${name} ${problem}`,
      },
    ];
  });
}

/** Runs every cross-field rule over the top level and whatever parsed of each export. */
export function checkRules(top: TopLevel, exports: readonly ExportParts[]): RuleIssue[] {
  return [
    ...topLevelRules(top),
    ...uniqueExportIds(exports),
    ...exports.flatMap((exp) => [
      ...viewAddressing(exp, top),
      ...uniqueSheetNames(exp),
      ...destinationRules(exp, top),
      ...metricsRules(exp),
      ...burstRules(exp),
    ]),
  ];
}
