/**
 * Loads a configuration file: YAML → zod schema → named rules, collecting every problem with its file and line
 * before throwing one ConfigError. Relative paths in the file are resolved against the file's folder.
 */
import { open } from 'node:fs/promises';
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

/**
 * Largest config file read (bytes): YAML with duplicate-key checks costs quadratic time in the size of a map
 * (seconds for a megabyte, during which a SIGHUP reload blocks the service), and a real config is a few KiB.
 * `TABLEAU_EXPORT_CONFIG_MAX_BYTES` raises it for a fleet with thousands of exports.
 */
export const DEFAULT_CONFIG_MAX_BYTES = 1024 * 1024;
export const CONFIG_MAX_BYTES_ENV = 'TABLEAU_EXPORT_CONFIG_MAX_BYTES';

/**
 * Aliases expanded while turning the document into values: a real config needs a handful; an alias bomb ("billion
 * laughs") needs millions, and is refused long before it costs memory.
 */
const MAX_ALIAS_COUNT = 1000;

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
  const maxBytes = configMaxBytes(file, options.env ?? process.env);
  const text = await readCapped(file, maxBytes);
  return parseConfigText(text, file, options);
}

/** The size cap from {@link CONFIG_MAX_BYTES_ENV}, or the default. Throws ConfigError for a value that is no size. */
function configMaxBytes(file: string, env: NodeJS.ProcessEnv): number {
  const raw = env[CONFIG_MAX_BYTES_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_CONFIG_MAX_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw configFileError(
      file,
      `${CONFIG_MAX_BYTES_ENV}="${raw}" is not a size; give a whole number of bytes, e.g. ${DEFAULT_CONFIG_MAX_BYTES * 4}`,
    );
  return n;
}

/** Reads the file as UTF-8 after checking its size against `maxBytes`, through one handle (no stat/read race). */
async function readCapped(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw configFileError(
      file,
      code === 'ENOENT'
        ? 'file not found; pass --config FILE or set TABLEAU_EXPORT_CONFIG'
        : `cannot read: ${String(err)}`,
      err,
    );
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw configFileTooLarge(file, size, maxBytes);
    // A file growing between stat and read is read only up to the cap (plus one byte, to notice it grew past it).
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes) throw configFileTooLarge(file, length, maxBytes);
    return buffer.subarray(0, length).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw configFileError(file, `cannot read: ${String(err)}`, err);
  } finally {
    await handle.close();
  }
}

function configFileTooLarge(file: string, size: number, maxBytes: number): ConfigError {
  return configFileError(
    file,
    `file is ${size.toLocaleString('en-US')} bytes, over the ${maxBytes.toLocaleString('en-US')}-byte limit for a config file; ` +
      `check it is the right file, or raise the limit with ${CONFIG_MAX_BYTES_ENV}`,
  );
}

function configFileError(file: string, message: string, cause?: unknown): ConfigError {
  return new ConfigError([{ file, line: undefined, path: '', message }], cause === undefined ? {} : { cause });
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

  const raw = documentValue(doc, file);
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

/** The document as plain values; an alias bomb is a config error, not a crash (yaml throws a ReferenceError). */
function documentValue(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    throw configFileError(
      file,
      /excessive alias/i.test(err.message)
        ? `YAML aliases expand to too many nodes (over ${MAX_ALIAS_COUNT}, as in an "alias bomb"); write the values out or use fewer aliases`
        : `YAML: ${err.message}`,
      err,
    );
  }
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
