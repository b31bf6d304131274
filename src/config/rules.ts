/**
 * Named cross-field rules: what the schema alone cannot say. Each rule returns issues as `{ path, message }`; the
 * loader adds file and line. Rules run on every export that parsed, so all problems are reported at once.
 */
import type { Config, ExportConfig, ViewConfig } from './schema.js';
import { validateDrivePath } from '../shared/drive-path.js';
import { checkMetricsConfig } from '../transforms/metrics/config.js';

export interface RuleIssue {
  readonly path: (string | number)[];
  readonly message: string;
  /** Warnings are printed by `validate` but do not fail it. */
  readonly severity?: 'error' | 'warning';
}

type TopLevel = Partial<Pick<Config, 'tableau' | 'onedrive' | 'queue'>>;

/** The sheet a view lands on before sanitising: `sheet`, else the view name, else the CSV file's base name. */
export function viewSheetName(view: ViewConfig): string {
  if (view.sheet !== undefined) return view.sheet;
  if (view.view !== undefined) return view.view;
  if (view.file !== undefined) return view.file.replace(/^.*[\\/]/, '').replace(/\.csv$/i, '');
  if (view.contentUrl !== undefined) return view.contentUrl.replace(/^.*\//, '');
  return view.viewId ?? 'Data';
}

/** Rule: export ids are unique. */
function uniqueExportIds(exports: readonly { index: number; value: ExportConfig }[]): RuleIssue[] {
  const seen = new Map<string, number>();
  const issues: RuleIssue[] = [];
  for (const { index, value } of exports) {
    const first = seen.get(value.id);
    if (first !== undefined)
      issues.push({
        path: ['exports', index, 'id'],
        message: `duplicate export id "${value.id}" (also exports[${first}]); ids must be unique`,
      });
    else seen.set(value.id, index);
  }
  return issues;
}

/** Rule: each view is addressed exactly one way, and the addressing matches the configured source. */
function viewAddressing(index: number, exp: ExportConfig, top: TopLevel): RuleIssue[] {
  const issues: RuleIssue[] = [];
  exp.views.forEach((v, vi) => {
    const path = ['exports', index, 'views', vi];
    const forms = [
      v.workbook !== undefined || v.view !== undefined,
      v.contentUrl !== undefined,
      v.viewId !== undefined,
      v.file !== undefined,
    ].filter(Boolean).length;
    if (forms !== 1) {
      issues.push({
        path,
        message:
          'address the view exactly one way: { workbook, view } or contentUrl or viewId (Tableau), or file (local CSV)',
      });
      return;
    }
    if ((v.workbook === undefined) !== (v.view === undefined)) {
      issues.push({ path, message: 'give both workbook and view names' });
    }
    if (v.file === undefined && top.tableau === undefined) {
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

/** Rule: sheet names are unique within an export (case-insensitively, as Excel compares them). */
function uniqueSheetNames(index: number, exp: ExportConfig): RuleIssue[] {
  const seen = new Map<string, number>();
  const issues: RuleIssue[] = [];
  exp.views.forEach((v, vi) => {
    const name = viewSheetName(v).toLowerCase();
    const first = seen.get(name);
    if (first !== undefined) {
      issues.push({
        path: ['exports', index, 'views', vi, 'sheet'],
        message: `sheet name "${viewSheetName(v)}" is already used by views[${first}]; set a distinct "sheet:"`,
      });
    } else seen.set(name, vi);
  });
  return issues;
}

/** Rule: a OneDrive destination needs the onedrive section with one credential, and a valid path. */
function destinationRules(index: number, exp: ExportConfig, top: TopLevel): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const d = exp.destination;
  const path = ['exports', index, 'destination'];
  if (d.type === 'onedrive') {
    if (top.onedrive === undefined)
      issues.push({
        path,
        message:
          'destination is onedrive but the config has no top-level "onedrive" section (tenantId, clientId, clientSecretEnv or certificate)',
      });
    const checked = validateDrivePath(d.path);
    for (const e of checked.errors) issues.push({ path: [...path, 'path'], message: e });
    for (const w of checked.warnings) issues.push({ path: [...path, 'path'], message: w, severity: 'warning' });
    if (!/\.xlsx$/i.test(d.path)) issues.push({ path: [...path, 'path'], message: 'must end with .xlsx' });
  } else if (d.fileName !== undefined && (/[\\/]/.test(d.fileName) || !/\.xlsx$/i.test(d.fileName))) {
    issues.push({
      path: [...path, 'fileName'],
      message: 'must be a plain file name ending with .xlsx (put folders in "dir")',
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
function metricsRules(index: number, exp: ExportConfig): RuleIssue[] {
  if (exp.metrics === undefined) return [];
  const issues: RuleIssue[] = [];
  const sheets = exp.views.map(viewSheetName);
  if (!sheets.includes(exp.metrics.from)) {
    issues.push({
      path: ['exports', index, 'metrics', 'from'],
      message: `"${exp.metrics.from}" is not a sheet of this export; sheets: ${sheets.map((s) => `"${s}"`).join(', ')}`,
    });
  }
  for (const i of checkMetricsConfig(exp.metrics))
    issues.push({ path: ['exports', index, 'metrics', ...i.path], message: i.message });
  return issues;
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

/** Runs every cross-field rule over the top level and the exports that parsed. */
export function checkRules(top: TopLevel, exports: readonly { index: number; value: ExportConfig }[]): RuleIssue[] {
  return [
    ...topLevelRules(top),
    ...uniqueExportIds(exports),
    ...exports.flatMap(({ index, value }) => [
      ...viewAddressing(index, value, top),
      ...uniqueSheetNames(index, value),
      ...destinationRules(index, value, top),
      ...metricsRules(index, value),
    ]),
  ];
}
