/**
 * Parsing of Tableau REST XML responses into domain shapes. Every response is validated with zod; the API's XML
 * shape never leaves this folder.
 *
 * Tableau writes the same namespace (`http://tableau.com/api`, or `http://tableausoftware.com/api` on 9.0) either as
 * the default namespace or with a prefix (`<ns0:tsResponse xmlns:ns0=…>` on Tableau Cloud). We check the root
 * element's namespace by URI and then drop prefixes, so both forms parse the same.
 */
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../../shared/xml-entities.js';
import { z } from 'zod';
import { SourceError } from '../../shared/errors.js';

export const TABLEAU_NAMESPACES: readonly string[] = ['http://tableau.com/api', 'http://tableausoftware.com/api'];

export interface TableauErrorBody {
  readonly code: string;
  readonly summary: string;
  readonly detail: string;
}

export interface Pagination {
  readonly pageNumber: number;
  readonly pageSize: number;
  readonly totalAvailable: number;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Absent for calls that do not paginate (e.g. Query Views for Workbook). */
  readonly pagination: Pagination | undefined;
}

export interface TableauView {
  readonly id: string;
  readonly name: string;
  /** `Workbook/sheets/View`. */
  readonly contentUrl: string;
  /** The sheet segment of the view URL; derived from contentUrl when the server does not send it. */
  readonly viewUrlName: string;
  /** `worksheet`, `dashboard` or `story`; undefined on servers that do not send it. */
  readonly sheetType: string | undefined;
  readonly workbookId: string | undefined;
  readonly workbookName: string | undefined;
  readonly projectId: string | undefined;
  readonly projectName: string | undefined;
}

export interface TableauWorkbook {
  readonly id: string;
  readonly name: string;
  readonly contentUrl: string;
  readonly projectId: string | undefined;
  readonly projectName: string | undefined;
  readonly webpageUrl: string | undefined;
  /** Present only in Get Workbook (`/workbooks/{id}`) responses. */
  readonly views: readonly TableauView[] | undefined;
}

export interface SignInResult {
  readonly token: string;
  readonly siteId: string;
  readonly siteContentUrl: string;
  readonly userId: string;
  /** Time left until the PAT expires (`days:hh:mm`), when the server says; not the session TTL. */
  readonly estimatedTimeToExpiration: string | undefined;
}

export interface ServerInfo {
  readonly productVersion: string;
  readonly build: string | undefined;
  readonly restApiVersion: string;
}

const parser = new XMLParser({
  ...SAFE_XML_PARSER_OPTIONS,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  // Keep every value a string: "3.10" must not become the number 3.1.
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const ROOT_TAG = /<(?:([A-Za-z_][\w.-]*):)?tsResponse\b([^>]*)>/;

/**
 * Parses a body as a Tableau `tsResponse` document. Returns undefined when the body is not one (HTML from a proxy,
 * plain text, broken XML, or XML in another namespace), so callers can keep such bodies verbatim in their errors.
 */
export function parseTsResponse(text: string): Record<string, unknown> | undefined {
  const root = ROOT_TAG.exec(text);
  if (root === null) return undefined;
  const prefix = root[1];
  const attributes = root[2] ?? '';
  const declared = new RegExp(
    `\\bxmlns${prefix === undefined ? '' : `:${escapeRegExp(prefix)}`}\\s*=\\s*["']([^"']*)["']`,
  ).exec(attributes);
  if (declared === null || !TABLEAU_NAMESPACES.includes(declared[1] ?? '')) return undefined;
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch {
    return undefined;
  }
  const doc = z.object({ tsResponse: z.record(z.string(), z.unknown()) }).safeParse(parsed);
  return doc.success ? doc.data.tsResponse : undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An XML element that may appear once (object), many times (array), or as an empty element (""). */
function listOf<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v): unknown[] => (v === undefined || v === '' || v === null ? [] : Array.isArray(v) ? (v as unknown[]) : [v]),
    z.array(item),
  );
}

/** An element that may be empty (`<views />` parses as ""). */
function container<T extends z.ZodType>(inner: T) {
  return z.preprocess((v) => (v === '' || v === null ? {} : v), inner);
}

const textNode = z.union([z.string(), z.object({ '#text': z.string() }).transform((o) => o['#text'])]);

const errorSchema = z.object({
  code: z.string().regex(/^\d+$/),
  summary: textNode.optional(),
  detail: textNode.optional(),
});

const paginationSchema = z.object({
  pageNumber: z.coerce.number().int().min(1),
  pageSize: z.coerce.number().int().min(1),
  totalAvailable: z.coerce.number().int().min(0),
});

const refSchema = container(z.object({ id: z.string().optional(), name: z.string().optional() }));

const viewSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  contentUrl: z.string(),
  viewUrlName: z.string().optional(),
  sheetType: z.string().optional(),
  workbook: refSchema.optional(),
  project: refSchema.optional(),
});

const workbookSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  contentUrl: z.string(),
  webpageUrl: z.string().optional(),
  project: refSchema.optional(),
  views: container(z.object({ view: listOf(viewSchema) })).optional(),
});

type ViewXml = z.infer<typeof viewSchema>;
type WorkbookXml = z.infer<typeof workbookSchema>;

function toView(v: ViewXml, workbook?: { id: string; name: string }): TableauView {
  const sheetsAt = v.contentUrl.indexOf('/sheets/');
  const derivedUrlName = sheetsAt >= 0 ? v.contentUrl.slice(sheetsAt + '/sheets/'.length) : v.contentUrl;
  return {
    id: v.id,
    name: v.name,
    contentUrl: v.contentUrl,
    viewUrlName: v.viewUrlName ?? derivedUrlName,
    sheetType: v.sheetType,
    workbookId: v.workbook?.id ?? workbook?.id,
    workbookName: v.workbook?.name ?? workbook?.name,
    projectId: v.project?.id,
    projectName: v.project?.name,
  };
}

function toWorkbook(w: WorkbookXml): TableauWorkbook {
  return {
    id: w.id,
    name: w.name,
    contentUrl: w.contentUrl,
    projectId: w.project?.id,
    projectName: w.project?.name,
    webpageUrl: w.webpageUrl,
    views: w.views?.view.map((v) => toView(v, { id: w.id, name: w.name })),
  };
}

/** Reads the `<error code><summary><detail>` envelope of a Tableau XML (or JSON) body, if it is one. */
export function parseTableauErrorBody(text: string): TableauErrorBody | undefined {
  const doc = parseTsResponse(text);
  if (doc !== undefined) {
    const parsed = errorSchema.safeParse(doc['error']);
    if (!parsed.success) return undefined;
    return { code: parsed.data.code, summary: parsed.data.summary ?? '', detail: parsed.data.detail ?? '' };
  }
  // Tableau answers in JSON when asked to; its error code is a string there.
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed = z.object({ error: errorSchema }).safeParse(JSON.parse(trimmed));
    if (!parsed.success) return undefined;
    return {
      code: parsed.data.error.code,
      summary: parsed.data.error.summary ?? '',
      detail: parsed.data.error.detail ?? '',
    };
  } catch {
    return undefined;
  }
}

/**
 * Parses a response body with `schema` applied to the `tsResponse` element.
 * @throws SourceError `TABLEAU_BAD_RESPONSE` naming `what` when the body is not Tableau XML or lacks expected fields.
 */
function parseWith<T extends z.ZodType>(text: string, schema: T, what: string): z.infer<T> {
  const doc = parseTsResponse(text);
  if (doc === undefined) {
    throw new SourceError('TABLEAU_BAD_RESPONSE', `${what}: the response is not Tableau REST XML (${snippet(text)})`, {
      hint: 'check tableau.serverUrl points at the Tableau Server or Cloud pod itself, not a portal or proxy page',
      details: { body: snippet(text, 2000) },
    });
  }
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SourceError('TABLEAU_BAD_RESPONSE', `${what}: unexpected Tableau response shape (${issues})`, {
      hint: 'the server may run an API version this tool does not understand; set tableau.apiVersion explicitly',
      details: { body: snippet(text, 2000) },
    });
  }
  return parsed.data;
}

/** One line, at most `max` characters, of a body for an error message. */
export function snippet(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine === '') return 'empty body';
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

const signInSchema = z.object({
  credentials: z.object({
    token: z.string().min(1),
    estimatedTimeToExpiration: z.string().optional(),
    site: z.object({ id: z.string().min(1), contentUrl: z.string().optional() }),
    user: z.object({ id: z.string().min(1) }),
  }),
});

/** Parses the Sign In response (`<credentials token><site id contentUrl/><user id/></credentials>`). */
export function parseSignInResponse(text: string): SignInResult {
  const c = parseWith(text, signInSchema, 'sign in').credentials;
  return {
    token: c.token,
    siteId: c.site.id,
    siteContentUrl: c.site.contentUrl ?? '',
    userId: c.user.id,
    estimatedTimeToExpiration: c.estimatedTimeToExpiration,
  };
}

const serverInfoSchema = z.object({
  serverInfo: z.object({
    productVersion: z.union([
      z.string().transform((s) => ({ version: s, build: undefined })),
      z
        .object({ '#text': z.string(), build: z.string().optional() })
        .transform((o) => ({ version: o['#text'], build: o.build })),
    ]),
    restApiVersion: z.string().regex(/^\d+\.\d+$/),
  }),
});

/** Parses `GET /api/2.4/serverInfo`. */
export function parseServerInfoResponse(text: string): ServerInfo {
  const s = parseWith(text, serverInfoSchema, 'server info').serverInfo;
  return { productVersion: s.productVersion.version, build: s.productVersion.build, restApiVersion: s.restApiVersion };
}

const authInfoSchema = z.object({
  authinfo: z.object({
    version: z.object({ product_version: z.string().min(1), external_version: z.string().optional() }),
  }),
});

/**
 * Parses the legacy `GET {server}/auth?format=xml` answer of servers older than API 2.4 (no tsResponse envelope).
 * Returns the product version (e.g. `9.3`) and external version (`9.3.4`).
 */
export function parseLegacyAuthInfo(text: string): { productVersion: string; externalVersion: string | undefined } {
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = authInfoSchema.safeParse(parsed);
  if (!result.success) {
    throw new SourceError(
      'TABLEAU_BAD_RESPONSE',
      `legacy version probe (/auth?format=xml): unexpected response (${snippet(text)})`,
      {
        hint: 'check tableau.serverUrl points at a Tableau Server',
      },
    );
  }
  const v = result.data.authinfo.version;
  return { productVersion: v.product_version, externalVersion: v.external_version };
}

const viewsPageSchema = z.object({
  pagination: paginationSchema.optional(),
  views: container(z.object({ view: listOf(viewSchema) })).optional(),
});

/** Parses a views list: Query Views for Site (paginated) or Query Views for Workbook (no `<pagination>`). */
export function parseViewsPage(text: string, workbook?: { id: string; name: string }): Page<TableauView> {
  const p = parseWith(text, viewsPageSchema, 'list views');
  return { items: (p.views?.view ?? []).map((v) => toView(v, workbook)), pagination: p.pagination };
}

/** Parses Get View (`/views/{id}`, API 3.1+). */
export function parseViewResponse(text: string): TableauView {
  return toView(parseWith(text, z.object({ view: viewSchema }), 'get view').view);
}

const workbooksPageSchema = z.object({
  pagination: paginationSchema.optional(),
  workbooks: container(z.object({ workbook: listOf(workbookSchema) })).optional(),
});

/** Parses Query Workbooks for Site. */
export function parseWorkbooksPage(text: string): Page<TableauWorkbook> {
  const p = parseWith(text, workbooksPageSchema, 'list workbooks');
  return { items: (p.workbooks?.workbook ?? []).map(toWorkbook), pagination: p.pagination };
}

/** Parses Get Workbook (`/workbooks/{id}`), including its nested `<views>` when present. */
export function parseWorkbookResponse(text: string): TableauWorkbook {
  return toWorkbook(parseWith(text, z.object({ workbook: workbookSchema }), 'get workbook').workbook);
}
