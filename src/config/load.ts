/**
 * Loads a configuration file: YAML → zod schema → named rules, collecting every problem with its file and line
 * before throwing one ConfigError. Relative paths in the file are resolved against the file's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigIssue } from '../shared/errors.js';
import { configSchema, onedriveSchema, tableauSchema, type Config } from './schema.js';
import {
  checkRules,
  missingEnvVars,
  partsOfExport,
  readExportParts,
  webhookUrlIssues,
  type RuleIssue,
} from './rules.js';
import { createIssueRewriter } from './friendly-issues.js';

export const DEFAULT_CONFIG_PATH = 'config/exports.yaml';

export interface LoadedConfig {
  /** Absolute path of the file. */
  readonly file: string;
  /** Folder relative paths are resolved against. */
  readonly baseDir: string;
  readonly config: Config;
  /** Non-fatal findings (e.g. an OneDrive path long enough to trouble Excel desktop). */
  readonly warnings: readonly ConfigIssue[];
}

export interface LoadOptions {
  /** Also report env vars the config names but the environment lacks (what `validate` does). */
  readonly checkEnv?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Picks the config path: explicit flag, then TABLEAU_EXPORT_CONFIG, then config/exports.yaml. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env['TABLEAU_EXPORT_CONFIG'] ?? DEFAULT_CONFIG_PATH);
}

/** Reads and validates a config file. Throws ConfigError listing every issue (`file:line path: message`). */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      [
        {
          file,
          line: undefined,
          path: '',
          message:
            code === 'ENOENT'
              ? 'file not found; pass --config FILE or set TABLEAU_EXPORT_CONFIG'
              : `cannot read: ${String(err)}`,
        },
      ],
      { cause: err },
    );
  }
  return parseConfigText(text, file, options);
}

/** Validates config text as if read from `file` (used by loadConfig and by tests). */
export function parseConfigText(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const e of doc.errors) {
    issues.push({
      file,
      line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      path: '',
      message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const raw: unknown = doc.toJS();
  const locate = (path: readonly PropertyKey[]): number | undefined => lineOf(doc, lineCounter, path);
  const toIssue = (path: readonly PropertyKey[], message: string): ConfigIssue => ({
    file,
    line: locate(path),
    path: formatPath(path),
    message,
  });

  const parsed = configSchema.safeParse(raw);
  if (parsed.success) {
    const config = resolvePaths(parsed.data, dirname(file));
    const ruleIssues: RuleIssue[] = [
      ...checkRules(
        config,
        config.exports.map((value, index) => partsOfExport(index, value)),
      ),
      ...(options.checkEnv === true
        ? [
            ...missingEnvVars(config, options.env ?? process.env),
            ...webhookUrlIssues(config, options.env ?? process.env),
          ]
        : []),
    ];
    for (const r of ruleIssues) (r.severity === 'warning' ? warnings : issues).push(toIssue(r.path, r.message));
    if (issues.length > 0) throw new ConfigError(sortIssues(issues));
    return { file, baseDir: dirname(file), config, warnings };
  }

  // zod's own texts ("Invalid input: expected object, received undefined") say what the schema expected; the user
  // needs the key that is missing with an example, the key they meant, the value that is wrong.
  const rewrite = createIssueRewriter();
  for (const i of parsed.error.issues) for (const f of rewrite(i, raw)) issues.push(toIssue(f.path, f.message));
  // The schema failed somewhere; still run the cross-field rules on the parts that did parse, so the user sees
  // every problem in one go.
  const obj = isRecord(raw) ? raw : {};
  const top = {
    tableau: tableauSchema.safeParse(obj['tableau']).data,
    onedrive: onedriveSchema.safeParse(obj['onedrive']).data,
    written: { tableau: obj['tableau'] !== undefined, onedrive: obj['onedrive'] !== undefined },
  };
  const exports = Array.isArray(obj['exports'])
    ? (obj['exports'] as unknown[]).map((e, index) => readExportParts(index, e))
    : [];
  for (const r of checkRules(top, exports)) if (r.severity !== 'warning') issues.push(toIssue(r.path, r.message));
  throw new ConfigError(sortIssues(dedupe(issues)));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `['exports', 0, 'views', 1, 'sheet']` → `exports[0].views[1].sheet`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc === '' ? String(p) : `${acc}.${String(p)}`),
    '',
  );
}

/** Line of the deepest node that exists along `path` (the key itself when the path ends at a key). */
function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = rangeLine(node, lc);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (pair === undefined) break;
      line = rangeLine(pair.key, lc) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      line = rangeLine(node, lc) ?? line;
    } else break;
  }
  return line;
}

function rangeLine(node: unknown, lc: LineCounter): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : lc.linePos(range[0]).line;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.line}|${i.path}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Resolves relative file paths (stateDir, caFile, local dirs, CSV files) against the config's folder. */
function resolvePaths(config: Config, baseDir: string): Config {
  const abs = (p: string): string => resolve(baseDir, p);
  return {
    ...config,
    stateDir: abs(config.stateDir),
    tableau:
      config.tableau === undefined
        ? undefined
        : { ...config.tableau, ...(config.tableau.caFile === undefined ? {} : { caFile: abs(config.tableau.caFile) }) },
    onedrive:
      config.onedrive === undefined
        ? undefined
        : {
            ...config.onedrive,
            ...(config.onedrive.caFile === undefined ? {} : { caFile: abs(config.onedrive.caFile) }),
          },
    exports: config.exports.map((e) => ({
      ...e,
      views: e.views.map((v) => (v.file === undefined ? v : { ...v, file: abs(v.file) })),
      destination: e.destination.type === 'local' ? { ...e.destination, dir: abs(e.destination.dir) } : e.destination,
      ...(e.notify?.caFile === undefined ? {} : { notify: { ...e.notify, caFile: abs(e.notify.caFile) } }),
    })),
  };
}
