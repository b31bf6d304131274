/**
 * A Tableau Server simulator on loopback HTTPS (self-signed CA), for the demo and the integration tests. It follows
 * the REST protocol the way Tableau does and rejects what Tableau rejects: unauthenticated serverInfo, sign-in with
 * PAT / password / connected-app JWT (signature and claims verified), one live session per PAT (signing in again
 * kills the earlier session), expiring tokens, views and workbooks lists with `filter=` and paging, Get View, Query
 * Views for Workbook (no pagination element), and view data as display-formatted CSV with `vf_` filters.
 *
 * Faults are injected through the returned `faults` queue; `stats` counts sign-ins, sessions and concurrency.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { renderCsvLine, type PipelineOptions } from '../demo-data/pipeline-generator.js';
import { createSimulatorTls } from '../tls.js';
import { buildSimContent, renderViewTable, splitFilterValues, type SimView, type SimWorkbook } from './sim-content.js';
import {
  createXmlWriter,
  errorXml,
  paginationXml,
  viewXml,
  workbookXml,
  type XmlStyle,
  type XmlWriter,
} from './sim-xml.js';

export interface SimUser {
  readonly name: string;
  readonly password?: string;
}

export interface SimPat {
  readonly name: string;
  readonly secret: string;
  readonly user: string;
}

export interface SimConnectedApp {
  readonly clientId: string;
  readonly secretId: string;
  readonly secretValue: string;
}

export interface TableauSimulatorOptions {
  /** Site contentUrls that exist (default `['sales']`); `''` is the Default site. Every site holds the same content. */
  readonly sites?: readonly string[];
  readonly users?: readonly SimUser[];
  readonly pats?: readonly SimPat[];
  readonly connectedApps?: readonly SimConnectedApp[];
  /** Highest REST API version served (default `3.24`); below `2.4` the server behaves like a pre-serverInfo one. */
  readonly restApiVersion?: string;
  readonly productVersion?: string;
  /** Session lifetime (default 240 min, Tableau Server's idle limit). */
  readonly sessionTtlMs?: number;
  /** Rows of the Opportunities worksheet (default 200), seed and as-of date of the demo pipeline. */
  readonly rowCount?: number;
  readonly seed?: number;
  readonly asOf?: Date;
  /** Namespace style of XML answers: default namespace (Server) or `ns0:` prefixes (Cloud). */
  readonly xmlStyle?: XmlStyle;
  /** Answer sign-in on 127.0.0.1 with a 302 to `localhost` (as Tableau Cloud redirects to its pod). */
  readonly podRedirect?: boolean;
  /** Add a second `Sales Pipeline` workbook in this project (names are not unique on real sites). */
  readonly duplicateSalesPipelineIn?: string;
  /** Where to write the CA; a fresh temp folder (removed on close) by default. */
  readonly tlsDir?: string;
}

export type FaultTarget = 'serverinfo' | 'signin' | 'signout' | 'views' | 'workbooks' | 'data' | 'any';

export type TableauFault = (
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly code?: string;
      readonly summary?: string;
      readonly detail?: string;
      readonly retryAfter?: string;
    }
  /** 429 with an HTML body, as Tableau Cloud's export concurrency limit answers. */
  | { readonly kind: 'throttle'; readonly retryAfter?: string }
  /** 503 HTML page from the gateway. */
  | { readonly kind: 'unavailable'; readonly retryAfter?: string }
  /** An HTML error page (default 502), e.g. from a proxy. */
  | { readonly kind: 'html-error'; readonly status?: number }
  /** Invalidates the caller's session, then answers 401002 (a token expired or replaced mid-run). */
  | { readonly kind: 'expire-session' }
  /** Sends part of the body, pauses `delayMs`, then the rest. */
  | { readonly kind: 'slow-body'; readonly delayMs: number }
  /** Sends `afterBytes` (default half) of the body and closes the connection; with Content-Length unless `chunked`. */
  | { readonly kind: 'cut-body'; readonly afterBytes?: number; readonly chunked?: boolean }
  /** Drops the connection before answering. */
  | { readonly kind: 'reset' }
) & {
  /** Which requests it hits (default `data`). */
  readonly on?: FaultTarget;
  /** How many matching requests it hits (default 1). */
  readonly times?: number;
};

export interface TableauFaults {
  /** Queues a fault for the next matching request(s). */
  next(fault: TableauFault): void;
  clear(): void;
  /** Faults still queued. */
  readonly pending: number;
}

export interface SimRequestLogEntry {
  readonly method: string;
  readonly path: string;
  /** Raw query string (never carries credentials: tokens travel in headers and bodies). */
  readonly query: string;
  readonly endpoint: FaultTarget | 'other';
  status: number;
}

export interface TableauSimulatorStats {
  signIns: number;
  failedSignIns: number;
  signOuts: number;
  /** Live (not expired, not signed out, not replaced) sessions now. */
  readonly activeSessions: number;
  /** Highest number of sessions one PAT would have held at once (a PAT sign-in while its session is live counts 2). */
  maxConcurrentSessionsPerPat: number;
  /** PAT sessions killed because the same PAT signed in again. */
  sessionsReplaced: number;
  currentDataRequests: number;
  maxConcurrentDataRequests: number;
  readonly requests: SimRequestLogEntry[];
}

export interface TableauSimulator {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** CA certificate PEM to trust (`tableau.caFile`). */
  readonly caFile: string;
  readonly faults: TableauFaults;
  readonly stats: TableauSimulatorStats;
  /** Site LUID by contentUrl. */
  siteId(contentUrl: string): string;
  /** The content served (for tests that address views by id). */
  readonly workbooks: readonly SimWorkbook[];
  /** Kills every live session (as an admin or a restart would). */
  expireAllSessions(): void;
  /** Every session token issued so far, so tests and the demo can check that none leaked into logs or reports. */
  issuedTokens(): readonly string[];
  close(): Promise<void>;
}

interface Session {
  readonly token: string;
  readonly siteId: string;
  readonly site: string;
  readonly user: string;
  readonly pat: string | undefined;
  readonly scopes: readonly string[] | undefined;
  expiresAt: number;
}

interface SimResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** A complete body, or lines streamed in chunks (view data). */
  readonly body: Buffer | Iterable<string>;
}

const DEFAULTS = {
  sites: ['sales'],
  users: [{ name: 'ops@example.com', password: 'ops-password' }, { name: 'analyst@example.com' }],
  pats: [{ name: 'export-bot', secret: 'pat-secret-0123456789', user: 'ops@example.com' }],
  connectedApps: [
    { clientId: 'sim-client-id', secretId: 'sim-secret-id', secretValue: 'sim-connected-app-secret-value' },
  ],
  restApiVersion: '3.24',
  productVersion: '2024.2.0',
  sessionTtlMs: 240 * 60_000,
  rowCount: 200,
  seed: 42,
  asOf: new Date(Date.UTC(2026, 10, 27)),
};

const JWT_MAX_LIFETIME_S = 600;

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

function html(title: string, text: string): Buffer {
  return Buffer.from(
    `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`,
  );
}

const signInBodySchema = z.object({
  tsRequest: z.object({
    credentials: z.object({
      name: z.string().optional(),
      password: z.string().optional(),
      personalAccessTokenName: z.string().optional(),
      personalAccessTokenSecret: z.string().optional(),
      jwt: z.string().optional(),
      site: z.object({ contentUrl: z.string().optional() }).optional(),
    }),
  }),
});

const jwtHeaderSchema = z.object({ alg: z.literal('HS256'), kid: z.string(), iss: z.string().optional() });
const jwtPayloadSchema = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string(),
  jti: z.string().min(1),
  exp: z.number(),
  scp: z.array(z.string()),
});

/**
 * Starts the simulator on `127.0.0.1`, port 0 (a free port). Close it with `close()`.
 */
export async function startTableauSimulator(options: TableauSimulatorOptions = {}): Promise<TableauSimulator> {
  const sites = options.sites ?? DEFAULTS.sites;
  const users = options.users ?? DEFAULTS.users;
  const pats = options.pats ?? DEFAULTS.pats;
  const apps = options.connectedApps ?? DEFAULTS.connectedApps;
  const maxApi = options.restApiVersion ?? DEFAULTS.restApiVersion;
  const productVersion = options.productVersion ?? DEFAULTS.productVersion;
  const ttl = options.sessionTtlMs ?? DEFAULTS.sessionTtlMs;
  const pipeline: PipelineOptions = {
    seed: options.seed ?? DEFAULTS.seed,
    count: options.rowCount ?? DEFAULTS.rowCount,
    asOf: options.asOf ?? DEFAULTS.asOf,
  };
  const w: XmlWriter = createXmlWriter(options.xmlStyle ?? 'default');
  const workbooks = buildSimContent({ duplicateSalesPipelineIn: options.duplicateSalesPipelineIn });
  const siteIds = new Map(sites.map((s, i) => [s, `6b7179ba-0000-4000-8000-${String(i + 1).padStart(12, '0')}`]));
  const sessions = new Map<string, Session>();
  const usedJtis = new Set<string>();
  const issued: string[] = [];
  const faultQueue: { fault: TableauFault; left: number }[] = [];
  const xmlParser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    removeNSPrefix: true,
    parseTagValue: false,
  });

  const liveSessions = (): Session[] => {
    const now = Date.now();
    for (const [token, s] of sessions) if (s.expiresAt <= now) sessions.delete(token);
    return [...sessions.values()];
  };

  const stats: TableauSimulatorStats = {
    signIns: 0,
    failedSignIns: 0,
    signOuts: 0,
    get activeSessions() {
      return liveSessions().length;
    },
    maxConcurrentSessionsPerPat: 0,
    sessionsReplaced: 0,
    currentDataRequests: 0,
    maxConcurrentDataRequests: 0,
    requests: [],
  };

  const tlsDir = options.tlsDir ?? (await mkdtemp(join(tmpdir(), 'tableau-sim-')));
  const tls = await createSimulatorTls(tlsDir);
  let baseUrl = '';

  const xml = (
    status: number,
    body: string,
    apiVersion: string,
    headers: Record<string, string> = {},
  ): SimResponse => ({
    status,
    headers: { 'Content-Type': 'application/xml;charset=utf-8', ...headers },
    body: Buffer.from(w.doc(body, apiVersion)),
  });
  const tableauError = (
    status: number,
    code: string,
    summary: string,
    detail: string,
    apiVersion: string,
  ): SimResponse => xml(status, errorXml(w, code, summary, detail), apiVersion);

  function takeFault(endpoint: FaultTarget | 'other'): TableauFault | undefined {
    const i = faultQueue.findIndex((f) => {
      const on = f.fault.on ?? 'data';
      return on === 'any' || on === endpoint;
    });
    if (i < 0) return undefined;
    const entry = faultQueue[i];
    if (entry === undefined) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) faultQueue.splice(i, 1);
    return entry.fault;
  }

  function classify(path: string): FaultTarget | 'other' {
    if (/\/serverinfo$/i.test(path) || path === '/auth') return 'serverinfo';
    if (path.endsWith('/auth/signin')) return 'signin';
    if (path.endsWith('/auth/signout')) return 'signout';
    if (/\/views\/[^/]+\/data$/.test(path)) return 'data';
    if (/\/workbooks(\/|$)/.test(path)) return 'workbooks';
    if (/\/views(\/|$)/.test(path)) return 'views';
    return 'other';
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > 1024 * 1024) throw new Error('request body too large');
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  function verifyJwt(jwt: string): { user: string; scopes: string[] } | string {
    const parts = jwt.split('.');
    if (parts.length !== 3) return 'malformed JWT';
    const [h = '', p = '', sig = ''] = parts;
    let header: z.infer<typeof jwtHeaderSchema>;
    let payload: z.infer<typeof jwtPayloadSchema>;
    try {
      header = jwtHeaderSchema.parse(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')));
      payload = jwtPayloadSchema.parse(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
    } catch {
      return 'malformed JWT header or payload';
    }
    const app = apps.find((a) => a.secretId === header.kid && a.clientId === payload.iss);
    if (app === undefined) return 'CONNECTED_APP_NOT_FOUND (errorCode=126)';
    if (header.iss !== undefined && header.iss !== app.clientId) return 'header iss does not match the client id';
    const expected = createHmac('sha256', app.secretValue).update(`${h}.${p}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return 'invalid JWT signature (errorCode=16)';
    const now = Math.floor(Date.now() / 1000);
    if (payload.aud !== 'tableau') return 'aud must be "tableau"';
    if (payload.exp <= now) return 'JWT expired (errorCode=16)';
    if (payload.exp - now > JWT_MAX_LIFETIME_S) return 'JWT exp is more than 10 minutes ahead (errorCode=16)';
    if (usedJtis.has(payload.jti)) return 'JWT jti was already used (errorCode=16)';
    if (!users.some((u) => u.name === payload.sub)) return `unknown user '${payload.sub}' (errorCode=16)`;
    usedJtis.add(payload.jti);
    return { user: payload.sub, scopes: payload.scp };
  }

  async function handleSignIn(req: IncomingMessage, apiVersion: string): Promise<SimResponse> {
    const text = await readBody(req);
    let parsed: z.infer<typeof signInBodySchema>;
    try {
      parsed = signInBodySchema.parse(xmlParser.parse(text));
    } catch {
      return tableauError(400, '400000', 'Bad Request', 'The sign-in request body is not valid.', apiVersion);
    }
    const c = parsed.tsRequest.credentials;
    const site = c.site?.contentUrl ?? '';
    const fail = (detail: string): SimResponse => {
      stats.failedSignIns += 1;
      return tableauError(401, '401001', 'Signin Error', detail, apiVersion);
    };
    let user: string;
    let pat: string | undefined;
    let scopes: string[] | undefined;
    if (c.personalAccessTokenName !== undefined) {
      if (compareVersions(apiVersion, '3.6') < 0)
        return tableauError(400, '400000', 'Bad Request', 'Personal access tokens need API 3.6.', apiVersion);
      const known = pats.find((t) => t.name === c.personalAccessTokenName && t.secret === c.personalAccessTokenSecret);
      if (known === undefined) return fail('Error signing in to Tableau Server');
      user = known.user;
      pat = known.name;
    } else if (c.jwt !== undefined) {
      if (compareVersions(apiVersion, '3.17') < 0)
        return tableauError(400, '400000', 'Bad Request', 'JWT sign-in needs API 3.17.', apiVersion);
      const verdict = verifyJwt(c.jwt);
      if (typeof verdict === 'string') return fail(`Signin Error: ${verdict}`);
      user = verdict.user;
      scopes = verdict.scopes;
    } else if (c.name !== undefined) {
      const known = users.find((u) => u.name === c.name && u.password !== undefined && u.password === c.password);
      if (known === undefined) return fail('Error signing in to Tableau Server');
      user = known.name;
    } else {
      return tableauError(400, '400000', 'Bad Request', 'No credentials in the sign-in request.', apiVersion);
    }
    const siteId = siteIds.get(site);
    if (siteId === undefined) return fail('Error signing in to Tableau Server');

    if (pat !== undefined) {
      // One live session per PAT: a new sign-in ends the previous one (Tableau's documented behaviour).
      const previous = liveSessions().filter((s) => s.pat === pat);
      stats.maxConcurrentSessionsPerPat = Math.max(stats.maxConcurrentSessionsPerPat, previous.length + 1);
      for (const s of previous) {
        sessions.delete(s.token);
        stats.sessionsReplaced += 1;
      }
    }
    const token = randomBytes(24).toString('base64url');
    issued.push(token);
    sessions.set(token, { token, siteId, site, user, pat, scopes, expiresAt: Date.now() + ttl });
    stats.signIns += 1;
    const userId = `1a96d216-0000-4000-8000-${String(users.findIndex((u) => u.name === user) + 1).padStart(12, '0')}`;
    return xml(
      200,
      w.el(
        'credentials',
        { token, ...(pat === undefined ? {} : { estimatedTimeToExpiration: '177:05:38' }) },
        w.el('site', { id: siteId, contentUrl: site }) + w.el('user', { id: userId }),
      ),
      apiVersion,
    );
  }

  function authenticate(req: IncomingMessage, apiVersion: string): Session | SimResponse {
    const header = req.headers['x-tableau-auth'];
    const token = Array.isArray(header) ? header[0] : header;
    if (token === undefined || token === '') {
      return tableauError(
        401,
        '401000',
        'Unauthorized Access',
        'No authentication credentials were provided.',
        apiVersion,
      );
    }
    const session = liveSessions().find((s) => s.token === token);
    if (session === undefined) {
      return tableauError(
        401,
        '401002',
        'Unauthorized Access',
        'Invalid authentication credentials were provided.',
        apiVersion,
      );
    }
    return session;
  }

  function parsePaging(
    query: URLSearchParams,
    apiVersion: string,
  ): { pageSize: number; pageNumber: number } | SimResponse {
    const pageSize = Number(query.get('pageSize') ?? '100');
    const pageNumber = Number(query.get('pageNumber') ?? '1');
    if (
      !Number.isInteger(pageSize) ||
      pageSize < 1 ||
      pageSize > 1000 ||
      !Number.isInteger(pageNumber) ||
      pageNumber < 1
    ) {
      return tableauError(400, '400006', 'Bad Request', 'Invalid page size or page number.', apiVersion);
    }
    return { pageSize, pageNumber };
  }

  /** `field:eq:value[,field:eq:value]` (AND). Only `eq` on the given fields; anything else is a 400 like Tableau. */
  function parseFilter(
    raw: string | null,
    fields: readonly string[],
    apiVersion: string,
  ): [string, string][] | SimResponse {
    if (raw === null || raw === '') return [];
    const out: [string, string][] = [];
    for (const expr of raw.split(',')) {
      const m = /^([^:]+):([^:]+):(.*)$/.exec(expr);
      if (m === null)
        return tableauError(400, '400006', 'Bad Request', `Invalid filter expression '${expr}'.`, apiVersion);
      const [, field = '', op = '', value = ''] = m;
      if (!fields.includes(field))
        return tableauError(400, '400065', 'Bad Request', `The filter field '${field}' is not valid.`, apiVersion);
      if (op !== 'eq')
        return tableauError(
          400,
          '400006',
          'Bad Request',
          `The operator '${op}' is not supported by the simulator.`,
          apiVersion,
        );
      out.push([field, value]);
    }
    return out;
  }

  function page<T>(items: readonly T[], paging: { pageSize: number; pageNumber: number }): T[] {
    return items.slice((paging.pageNumber - 1) * paging.pageSize, paging.pageNumber * paging.pageSize);
  }

  const allViews = (): { view: SimView; workbook: SimWorkbook }[] =>
    workbooks.flatMap((wb) => wb.views.map((view) => ({ view, workbook: wb })));

  const hasScope = (session: Session, scope: string): boolean =>
    session.scopes === undefined || session.scopes.includes(scope) || session.scopes.includes('tableau:*');

  function forbiddenScope(scope: string, apiVersion: string): SimResponse {
    return tableauError(403, '403000', 'Forbidden', `The connected-app JWT lacks the scope ${scope}.`, apiVersion);
  }

  async function route(req: IncomingMessage, url: URL): Promise<SimResponse> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/auth' && method === 'GET') {
      if (compareVersions(maxApi, '2.4') >= 0)
        return { status: 404, headers: { 'Content-Type': 'text/html' }, body: html('Not Found', 'No such page.') };
      return {
        status: 200,
        headers: { 'Content-Type': 'application/xml' },
        body: Buffer.from(
          `<authinfo>\n<version version="0.31">\n<api_version>0.31</api_version>\n<product_version>${productVersion}</product_version>\n<external_version>${productVersion}.4</external_version>\n</version>\n</authinfo>\n`,
        ),
      };
    }
    const api = /^\/api\/([^/]+)\/(.*)$/.exec(path);
    if (api === null)
      return { status: 404, headers: { 'Content-Type': 'text/html' }, body: html('Not Found', 'No such page.') };
    const apiVersion = api[1] ?? '';
    const rest = api[2] ?? '';
    const replyVersion = /^\d+\.\d+$/.test(apiVersion) ? apiVersion : maxApi;
    if (/^serverinfo$/i.test(rest)) {
      if (compareVersions(maxApi, '2.4') < 0) {
        return tableauError(
          404,
          '404003',
          'Resource Not Found',
          `Unknown resource '/${apiVersion}/serverInfo' specified in URI.`,
          '2.3',
        );
      }
    }
    if (
      !/^\d+\.\d+$/.test(apiVersion) ||
      compareVersions(apiVersion, maxApi) > 0 ||
      compareVersions(apiVersion, '2.0') < 0
    ) {
      return tableauError(
        404,
        '404001',
        'Version Not Found',
        `Version '${apiVersion}' is not a valid version of the API.`,
        maxApi,
      );
    }
    if (/^serverinfo$/i.test(rest) && method === 'GET') {
      return xml(
        200,
        w.el(
          'serverInfo',
          {},
          w.el('productVersion', { build: '20242.24.0711.1636' }, productVersion) + w.el('restApiVersion', {}, maxApi),
        ),
        replyVersion,
      );
    }
    if (rest === 'auth/signin') {
      if (method !== 'POST')
        return tableauError(405, '405000', 'Method Not Allowed', 'Sign in accepts POST only.', replyVersion);
      if (options.podRedirect === true && (req.headers.host ?? '').startsWith('127.0.0.1')) {
        const port = (server.address() as AddressInfo).port;
        return {
          status: 302,
          headers: { Location: `https://localhost:${port}${path}`, 'Content-Type': 'text/html' },
          body: html('Found', 'Moved.'),
        };
      }
      return handleSignIn(req, replyVersion);
    }
    if (rest === 'auth/signout') {
      if (method !== 'POST')
        return tableauError(405, '405000', 'Method Not Allowed', 'Sign out accepts POST only.', replyVersion);
      const session = authenticate(req, replyVersion);
      if ('status' in session) return session;
      sessions.delete(session.token);
      stats.signOuts += 1;
      return { status: 204, headers: {}, body: Buffer.alloc(0) };
    }
    const siteRoute = /^sites\/([^/]+)\/(.*)$/.exec(rest);
    if (siteRoute === null)
      return tableauError(
        404,
        '404003',
        'Resource Not Found',
        `Unknown resource '/${rest}' specified in URI.`,
        replyVersion,
      );
    const session = authenticate(req, replyVersion);
    if ('status' in session) return session;
    if (siteRoute[1] !== session.siteId) {
      return tableauError(403, '403000', 'Forbidden', 'The session is not signed in to that site.', replyVersion);
    }
    if (method !== 'GET')
      return tableauError(405, '405000', 'Method Not Allowed', 'Only GET is simulated here.', replyVersion);
    const resource = siteRoute[2] ?? '';
    const q = url.searchParams;

    if (resource === 'views') {
      if (!hasScope(session, 'tableau:content:read')) return forbiddenScope('tableau:content:read', replyVersion);
      const paging = parsePaging(q, replyVersion);
      if ('status' in paging) return paging;
      const filter = parseFilter(
        q.get('filter'),
        ['viewUrlName', 'workbookName', 'projectName', 'name', 'sheetType', 'contentUrl'],
        replyVersion,
      );
      if ('status' in filter) return filter;
      const matches = allViews().filter(({ view, workbook }) =>
        filter.every(([field, value]) => {
          const actual: Record<string, string> = {
            viewUrlName: view.viewUrlName,
            workbookName: workbook.name,
            projectName: workbook.projectName,
            name: view.name,
            sheetType: view.sheetType,
            contentUrl: view.contentUrl,
          };
          return actual[field] === value;
        }),
      );
      const body =
        paginationXml(w, paging.pageNumber, paging.pageSize, matches.length) +
        w.el(
          'views',
          {},
          page(matches, paging)
            .map((m) => viewXml(w, m.view, m.workbook))
            .join(''),
        );
      return xml(200, body, replyVersion);
    }
    const viewRoute = /^views\/([^/]+)(\/data)?$/.exec(resource);
    if (viewRoute !== null) {
      const found = allViews().find((m) => m.view.id === viewRoute[1]);
      if (viewRoute[2] === undefined) {
        if (compareVersions(apiVersion, '3.1') < 0) {
          return tableauError(
            404,
            '404008',
            'Resource Not Found',
            `API version '${apiVersion}' does not support access to the given resource.`,
            replyVersion,
          );
        }
        if (!hasScope(session, 'tableau:content:read')) return forbiddenScope('tableau:content:read', replyVersion);
        if (found === undefined)
          return tableauError(
            404,
            '404011',
            'Resource Not Found',
            `View '${viewRoute[1] ?? ''}' could not be found.`,
            replyVersion,
          );
        return xml(200, viewXml(w, found.view, found.workbook), replyVersion);
      }
      if (!hasScope(session, 'tableau:views:download')) return forbiddenScope('tableau:views:download', replyVersion);
      if (found === undefined)
        return tableauError(
          404,
          '404011',
          'Resource Not Found',
          `View '${viewRoute[1] ?? ''}' could not be found.`,
          replyVersion,
        );
      const maxAge = q.get('maxAge');
      if (maxAge !== null && !/^\d+$/.test(maxAge))
        return tableauError(400, '400000', 'Bad Request', `Invalid maxAge '${maxAge}'.`, replyVersion);
      const filters = new Map<string, string[]>();
      for (const [key, value] of q) {
        // Parameters (vf_Parameters.X) exist in no simulated workbook: ignored, as Tableau ignores unknown names.
        if (key.startsWith('vf_') && !key.startsWith('vf_Parameters.'))
          filters.set(key.slice(3), splitFilterValues(value));
      }
      const table = renderViewTable(found.view, found.workbook, pipeline, filters);
      return {
        status: 200,
        headers: { 'Content-Type': 'text/csv; charset=utf-8' },
        body: csvLines(table.header, table.rows),
      };
    }
    if (resource === 'workbooks') {
      if (!hasScope(session, 'tableau:content:read')) return forbiddenScope('tableau:content:read', replyVersion);
      const paging = parsePaging(q, replyVersion);
      if ('status' in paging) return paging;
      const filter = parseFilter(q.get('filter'), ['name', 'projectName', 'contentUrl'], replyVersion);
      if ('status' in filter) return filter;
      const matches = workbooks.filter((wb) =>
        filter.every(
          ([field, value]) =>
            ({ name: wb.name, projectName: wb.projectName, contentUrl: wb.contentUrl })[field] === value,
        ),
      );
      const body =
        paginationXml(w, paging.pageNumber, paging.pageSize, matches.length) +
        w.el(
          'workbooks',
          {},
          page(matches, paging)
            .map((wb) => workbookXml(w, wb, baseUrl, session.site, false))
            .join(''),
        );
      return xml(200, body, replyVersion);
    }
    const wbRoute = /^workbooks\/([^/]+)(\/views)?$/.exec(resource);
    if (wbRoute !== null) {
      if (!hasScope(session, 'tableau:content:read')) return forbiddenScope('tableau:content:read', replyVersion);
      const wb = workbooks.find((x) => x.id === wbRoute[1]);
      if (wb === undefined)
        return tableauError(
          404,
          '404006',
          'Resource Not Found',
          `Workbook '${wbRoute[1] ?? ''}' could not be found.`,
          replyVersion,
        );
      if (wbRoute[2] === undefined) return xml(200, workbookXml(w, wb, baseUrl, session.site, true), replyVersion);
      // Query Views for Workbook has no <pagination> element.
      return xml(200, w.el('views', {}, wb.views.map((v) => viewXml(w, v, wb)).join('')), replyVersion);
    }
    return tableauError(
      404,
      '404003',
      'Resource Not Found',
      `Unknown resource '/${rest}' specified in URI.`,
      replyVersion,
    );
  }

  function* csvLines(header: readonly string[], rows: Iterable<readonly string[]>): Generator<string> {
    let chunk = `${renderCsvLine(header)}\r\n`;
    for (const row of rows) {
      chunk += `${renderCsvLine(row)}\r\n`;
      if (chunk.length >= 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }

  function applyStatusFault(fault: TableauFault, apiVersion: string): SimResponse | undefined {
    switch (fault.kind) {
      case 'status': {
        const body =
          fault.code === undefined
            ? html(`${fault.status} Error`, 'Simulated failure.')
            : Buffer.from(
                w.doc(
                  errorXml(w, fault.code, fault.summary ?? 'Error', fault.detail ?? 'Simulated failure.'),
                  apiVersion,
                ),
              );
        return {
          status: fault.status,
          headers: {
            'Content-Type': fault.code === undefined ? 'text/html' : 'application/xml',
            ...(fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter }),
          },
          body,
        };
      }
      case 'throttle':
        return {
          status: 429,
          headers: {
            'Content-Type': 'text/html; charset=utf-8',
            ...(fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter }),
          },
          body: html(
            '429 Too Many Requests',
            'Too many concurrent requests to long-running endpoints on this site. Try again later.',
          ),
        };
      case 'unavailable':
        return {
          status: 503,
          headers: {
            'Content-Type': 'text/html; charset=utf-8',
            ...(fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter }),
          },
          body: html('503 Service Unavailable', 'The server is temporarily unable to service your request.'),
        };
      case 'html-error': {
        const status = fault.status ?? 502;
        return {
          status,
          headers: { 'Content-Type': 'text/html' },
          body: html(`${status} Bad Gateway`, 'The proxy server received an invalid response from an upstream server.'),
        };
      }
      default:
        return undefined;
    }
  }

  async function send(res: ServerResponse, answer: SimResponse, fault: TableauFault | undefined): Promise<void> {
    const bodyFault =
      fault !== undefined && (fault.kind === 'slow-body' || fault.kind === 'cut-body') && answer.status === 200
        ? fault
        : undefined;
    if (bodyFault === undefined) {
      if (Buffer.isBuffer(answer.body)) {
        res.writeHead(answer.status, { ...answer.headers, 'Content-Length': String(answer.body.length) });
        res.end(answer.body);
        return;
      }
      res.writeHead(answer.status, answer.headers);
      for (const chunk of answer.body) {
        if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
        if (res.destroyed) return;
      }
      res.end();
      return;
    }
    const full = Buffer.isBuffer(answer.body) ? answer.body : Buffer.from([...answer.body].join(''));
    if (bodyFault.kind === 'slow-body') {
      const half = Math.floor(full.length / 2);
      res.writeHead(answer.status, { ...answer.headers, 'Content-Length': String(full.length) });
      res.write(full.subarray(0, half));
      await new Promise((resolve) => setTimeout(resolve, bodyFault.delayMs));
      if (!res.destroyed) res.end(full.subarray(half));
      return;
    }
    const cutAt = Math.min(full.length - 1, bodyFault.afterBytes ?? Math.floor(full.length / 2));
    res.writeHead(
      answer.status,
      bodyFault.chunked === true ? answer.headers : { ...answer.headers, 'Content-Length': String(full.length) },
    );
    res.write(full.subarray(0, cutAt));
    await new Promise((resolve) => setTimeout(resolve, 20));
    res.socket?.destroy();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://simulator.invalid');
    const method = req.method ?? 'GET';
    const endpoint = classify(url.pathname);
    const entry: SimRequestLogEntry = {
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      endpoint,
      status: 0,
    };
    stats.requests.push(entry);
    const isData = endpoint === 'data';
    if (isData) {
      stats.currentDataRequests += 1;
      stats.maxConcurrentDataRequests = Math.max(stats.maxConcurrentDataRequests, stats.currentDataRequests);
      res.once('close', () => {
        stats.currentDataRequests -= 1;
      });
    }
    const apiVersion = /^\/api\/(\d+\.\d+)\//.exec(url.pathname)?.[1] ?? maxApi;
    const fault = takeFault(endpoint);
    if (fault?.kind === 'reset') {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'expire-session') {
      const token = req.headers['x-tableau-auth'];
      if (typeof token === 'string') sessions.delete(token);
    }
    let answer = fault === undefined ? undefined : applyStatusFault(fault, apiVersion);
    if (answer === undefined) {
      try {
        answer = await route(req, url);
      } catch (err) {
        answer = {
          status: 500,
          headers: { 'Content-Type': 'text/plain' },
          body: Buffer.from(`simulator error: ${String(err)}`),
        };
      }
    } else {
      // Drain the request body of faulted requests so the connection stays usable.
      req.resume();
    }
    entry.status = answer.status;
    await send(res, answer, fault);
  }

  const server = https.createServer({ key: tls.key, cert: tls.cert, keepAlive: true }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;

  const faults: TableauFaults = {
    next(fault) {
      faultQueue.push({ fault, left: Math.max(1, fault.times ?? 1) });
    },
    clear() {
      faultQueue.length = 0;
    },
    get pending() {
      return faultQueue.length;
    },
  };

  return {
    url: baseUrl,
    caFile: tls.caFile,
    faults,
    stats,
    workbooks,
    siteId: (contentUrl) => {
      const id = siteIds.get(contentUrl);
      if (id === undefined) throw new Error(`no simulated site '${contentUrl}'`);
      return id;
    },
    expireAllSessions: () => sessions.clear(),
    issuedTokens: () => [...issued],
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (options.tlsDir === undefined) await rm(tlsDir, { recursive: true, force: true });
    },
  };
}
