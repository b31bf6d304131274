/**
 * Schema problems in words a person can act on. zod says "Invalid input: expected object, received undefined"; the
 * user needs "missing required key "destination" (…); for example: destination: { type: local, dir: ./out }". Every
 * rewrite reads the schema (as JSON Schema, the same view the config reference is generated from) and the raw
 * YAML data; values are echoed only where they cannot be secrets (a time zone, a form's `type`).
 */
import { z } from 'zod';
import { configSchema, isValidTimeZone } from './schema.js';

interface JsonSchema {
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  const?: unknown;
  additionalProperties?: JsonSchema | boolean;
}

/** A problem as the loader reports it (file and line are added by the loader). */
export interface FriendlyIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Examples of the keys people forget most, by path with list indexes written `[]`. */
const EXAMPLES: Readonly<Record<string, string>> = {
  exports:
    'exports: [ { id: sales, views: [ { workbook: Sales Pipeline, view: Opportunities } ], destination: { type: local, dir: ./out } } ]',
  'exports[].id': 'id: sales-pipeline-nightly',
  'exports[].views': 'views: [ { workbook: Sales Pipeline, view: Opportunities } ]',
  'exports[].destination':
    'destination: { type: local, dir: ./out }  or  destination: { type: onedrive, drive: { user: ops@contoso.com }, path: Reports/Sales Pipeline.xlsx }',
  'exports[].destination.dir': 'dir: ./out',
  'exports[].destination.path': 'path: Reports/Sales Pipeline.xlsx',
  'exports[].destination.drive': 'drive: { user: ops@contoso.com }',
  'exports[].destination.type': 'type: local',
  'exports[].metrics.from': 'from: Opportunities',
  'exports[].notify.webhookUrlEnv': 'webhookUrlEnv: TEAMS_WEBHOOK_URL',
  'tableau.serverUrl': 'serverUrl: https://tableau.example.com',
  'tableau.auth': 'auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: TABLEAU_PAT_SECRET }',
  'tableau.auth.type': 'type: pat',
  'tableau.auth.tokenNameEnv': 'tokenNameEnv: TABLEAU_PAT_NAME',
  'tableau.auth.tokenSecretEnv': 'tokenSecretEnv: TABLEAU_PAT_SECRET',
  'onedrive.tenantId': 'tenantId: 11111111-2222-3333-4444-555555555555',
  'onedrive.clientId': 'clientId: 66666666-7777-8888-9999-000000000000',
  'onedrive.certificate.privateKeyFileEnv': 'privateKeyFileEnv: AZURE_CERT_KEY_FILE',
  'onedrive.certificate.thumbprint': 'thumbprint: <hex SHA-256 of the certificate>',
};

/**
 * Creates the rewriter of zod issues into the problems the user sees (an unknown-keys issue becomes one per key).
 * It converts the schema once, on first use: only a config that fails pays for it.
 */
export function createIssueRewriter(): (issue: z.core.$ZodIssue, raw: unknown) => FriendlyIssue[] {
  let schema: JsonSchema | undefined;
  return (issue, raw) => {
    schema ??= z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    return rewrite(schema, issue, raw);
  };
}

function rewrite(schema: JsonSchema, issue: z.core.$ZodIssue, raw: unknown): FriendlyIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(nodeAt(schema, issue.path, raw)?.properties ?? {});
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: unknownKey(key, allowed) }));
  }
  const path = issue.path;
  const value = valueAt(raw, path);
  const parent = valueAt(raw, path.slice(0, -1));
  const last = path.at(-1);
  if (value === undefined && isRecord(parent) && typeof last === 'string') {
    return [{ path, message: missingKey(last, path, nodeAt(schema, path, raw)) }];
  }
  if (issue.message.includes('is not an IANA time zone') && typeof value === 'string') {
    return [{ path, message: badTimeZone(value) }];
  }
  if (
    issue.message.startsWith('Invalid discriminator value') &&
    (typeof value === 'string' || typeof value === 'number')
  ) {
    const expected = issue.message.replace(/^Invalid discriminator value\.?\s*Expected\s*/, '');
    const example = EXAMPLES[genericPath(path)];
    return [
      { path, message: `"${value}" is not one of ${expected}${example === undefined ? '' : `; e.g. ${example}`}` },
    ];
  }
  if (issue.code === 'invalid_union' && isRecord(value)) {
    return [{ path, message: noFormMatches(path, nodeAt(schema, path, raw), value) }];
  }
  return [{ path, message: issue.message.replace(/^Invalid input: /, '') }];
}

/** `unknown key "shedule"; did you mean "schedule"?` (or the keys allowed there when nothing is close). */
function unknownKey(key: string, allowed: readonly string[]): string {
  const close = closest(key, allowed);
  if (close !== undefined) return `unknown key "${key}"; did you mean "${close}"?`;
  const list = allowed.length === 0 ? '' : `; keys allowed here: ${allowed.join(', ')}`;
  return `unknown key "${key}"; check its spelling against config/exports.example.yaml${list}`;
}

function missingKey(key: string, path: readonly PropertyKey[], node: JsonSchema | undefined): string {
  const what = node?.description === undefined ? '' : ` (${node.description})`;
  const example = EXAMPLES[genericPath(path)];
  return `missing required key "${key}"${what}${example === undefined ? '' : `; for example: ${example}`}`;
}

/** `"Europe/Pariss" is not an IANA time zone; did you mean "Europe/Paris"?` */
function badTimeZone(value: string): string {
  const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC'].filter(isValidTimeZone);
  const byCase = zones.find((z) => z.toLowerCase() === value.toLowerCase());
  const close = byCase ?? closest(value, zones);
  const hint = close === undefined ? 'write e.g. Europe/Paris, America/New_York or UTC' : `did you mean "${close}"?`;
  return `"${value}" is not an IANA time zone; ${hint}`;
}

/** An object that fits none of a union's forms: which keys each form needs, and an example. */
function noFormMatches(
  path: readonly PropertyKey[],
  node: JsonSchema | undefined,
  value: Record<string, unknown>,
): string {
  const forms = (node?.oneOf ?? node?.anyOf ?? [])
    .map((f) => f.required ?? Object.keys(f.properties ?? {}))
    .filter((keys) => keys.length > 0)
    .map((keys) => `{ ${keys.join(', ')} }`);
  const given = Object.keys(value);
  const example = EXAMPLES[genericPath(path)];
  return [
    `matches none of its forms${forms.length === 0 ? '' : ` (${forms.join(' or ')})`}`,
    given.length === 0 ? 'it is empty' : `it has: ${given.join(', ')}`,
    ...(example === undefined ? [] : [`e.g. ${example}`]),
  ].join('; ');
}

/** The closest candidate within a small edit distance (a typo), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= limit && (best === undefined || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      const row = rows[i];
      if (row !== undefined) row[j] = d;
    }
  }
  return at(a.length, b.length);
}

/** The schema node at `path`, choosing among a union's forms by the data (its `type`, or the keys it has). */
function nodeAt(root: JsonSchema, path: readonly PropertyKey[], raw: unknown): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  let data: unknown = raw;
  for (const seg of path) {
    node = pickForm(node, data);
    if (node === undefined) return undefined;
    if (typeof seg === 'number') node = node.items;
    else
      node =
        node.properties?.[String(seg)] ??
        (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    data = isRecord(data) || Array.isArray(data) ? (data as Record<PropertyKey, unknown>)[seg as string] : undefined;
  }
  return pickForm(node, data) ?? node;
}

function pickForm(node: JsonSchema | undefined, data: unknown): JsonSchema | undefined {
  const forms = node?.oneOf ?? node?.anyOf;
  if (node === undefined || forms === undefined) return node;
  const objects = forms.filter((f) => f.properties !== undefined);
  if (objects.length === 0) return node;
  if (isRecord(data)) {
    const tagged = objects.find((f) =>
      Object.entries(f.properties ?? {}).some(([k, p]) => p.const !== undefined && data[k] === p.const),
    );
    if (tagged !== undefined) return withDescription(tagged, node);
    const byKeys = objects.find((f) => Object.keys(data).some((k) => k in (f.properties ?? {})));
    if (byKeys !== undefined) return withDescription(byKeys, node);
  }
  // No form chosen: the keys of every form are allowed, and the node keeps its own description.
  return {
    ...node,
    properties: Object.assign({}, ...objects.map((f) => f.properties)) as Record<string, JsonSchema>,
  };
}

/** A union's form, described by the union when it has no description of its own. */
function withDescription(form: JsonSchema, union: JsonSchema): JsonSchema {
  const description = form.description ?? union.description;
  return description === undefined ? form : { ...form, description };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const seg of path) {
    if (!(isRecord(v) || Array.isArray(v))) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg as string];
  }
  return v;
}

/** `['exports', 0, 'views']` → `exports[].views`. */
function genericPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[]` : acc === '' ? String(p) : `${acc}.${String(p)}`),
    '',
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
