/**
 * A Microsoft Graph / OneDrive / Entra ID simulator on loopback HTTPS, strict like the real services: it refuses
 * what Graph refuses (fragments not a multiple of 320 KiB, wrong or non-contiguous Content-Range, a bearer token on
 * an upload URL, `/me` app-only, missing or expired tokens) and can inject faults (423 locks, 429/503 with
 * Retry-After, dropped fragments, 416, expired sessions, expired tokens).
 *
 * Clients reach it only through ordinary configuration: `authorityHost`, `graphBaseUrl` and `caFile`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSimulatorTls } from '../tls.js';
import { createDriveStore, removeTemp, type DriveStore, type SimDrive, type SimItem } from './drive-store.js';
import { createFaultEngine, type FaultRule, type GraphFaults, type GraphOperation } from './faults.js';
import { createTokenService, type SimulatedClient } from './token-service.js';

export const FRAGMENT_UNIT = 327_680;
const MAX_FRAGMENT = 60 * 1024 * 1024;
const MAX_SIMPLE_UPLOAD = 250 * 1024 * 1024;

export interface GraphSimulatorOptions {
  /** Where file bodies, versions and TLS material are written. */
  readonly storageDir: string;
  readonly tenantId: string;
  readonly clients: readonly SimulatedClient[];
  /** Access token lifetime (default 3600 s). */
  readonly tokenTtlSeconds?: number;
  /** Users with a OneDrive (default `ops@contoso.com`). */
  readonly users?: readonly string[];
  /** SharePoint sites with a default library, as `host:/sites/Name` (default `contoso.sharepoint.com:/sites/Sales`). */
  readonly sites?: readonly string[];
  /** Storage quota per drive in bytes (default unlimited): createUploadSession beyond it answers 507. */
  readonly quotaBytes?: number;
  /** Idle lifetime of an upload session (default 900 s). */
  readonly uploadSessionIdleSeconds?: number;
  /** Port (default: any free one). */
  readonly port?: number;
}

export interface GraphSimulatorStats {
  requests: number;
  readonly byOperation: Record<string, number>;
  tokensIssued: number;
  uploadSessionsCreated: number;
  uploadSessionsDeleted: number;
  fragmentsAccepted: number;
  largestFragment: number;
  /** Size of every accepted fragment, in arrival order. */
  readonly fragmentSizes: number[];
  simpleUploads: number;
  /** Requests to an upload URL that carried an Authorization header (refused with 401). */
  authorizationOnUploadUrl: number;
  /** Statuses ≥ 400 the simulator answered, with the operation. */
  readonly errors: { op: string; status: number }[];
  /** Every answered request: method, path and query (upload URLs shown as `/up/…`, never their credential), status. */
  readonly log: { method: string; target: string; status: number }[];
}

export interface SimItemInfo {
  readonly id: string;
  readonly driveId: string;
  readonly path: string;
  readonly size: number;
  /** Number of versions including the current one. */
  readonly versions: number;
  /** Where the current bytes are on disk. */
  readonly localPath: string;
}

export interface GraphSimulator {
  /** `https://127.0.0.1:PORT` — give it as authorityHost. */
  readonly authorityHost: string;
  /** `https://127.0.0.1:PORT/v1.0`. */
  readonly graphBaseUrl: string;
  /** CA PEM that clients must trust. */
  readonly caFile: string;
  readonly tenantId: string;
  readonly faults: GraphFaults;
  readonly stats: GraphSimulatorStats;
  /** The id of a drive by user UPN or site address. */
  driveIdFor(selector: { readonly user: string } | { readonly site: string }): string;
  /**
   * Current bytes of a file, by item id, by a location as the destination reports it (`ops@contoso.com/Reports/x.xlsx`,
   * `contoso.sharepoint.com:/sites/Sales/Reports/x.xlsx`, `drive b!.../Reports/x.xlsx`), or by a path in the first
   * drive. Undefined when absent.
   */
  readFile(drivePathOrItemId: string): Promise<Buffer | undefined>;
  /** Metadata of a file or folder, addressed like readFile. */
  itemInfo(drivePathOrItemId: string): SimItemInfo | undefined;
  /** Open upload sessions. */
  openUploadSessions(): number;
  close(): Promise<void>;
}

interface UploadSession {
  readonly id: string;
  readonly secret: string;
  readonly driveId: string;
  readonly parentId: string;
  readonly name: string;
  readonly size: number;
  readonly conflictBehavior: string;
  readonly tempPath: string;
  received: number;
  expiresAtMs: number;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

class HttpFault extends Error {
  constructor(
    readonly status: number,
    readonly codes: readonly string[],
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const FORBIDDEN_NAME_CHARS = /["*:<>?/\\|]/;
const RESERVED = /^(\.lock|con|prn|aux|nul|com[0-9]|lpt[0-9]|desktop\.ini)(\..*)?$/i;

function checkName(name: string): void {
  if (
    name === '' ||
    FORBIDDEN_NAME_CHARS.test(name) ||
    RESERVED.test(name) ||
    name.includes('_vti_') ||
    name.startsWith('~$') ||
    name !== name.trim() ||
    name.endsWith('.')
  ) {
    throw new HttpFault(400, ['invalidRequest', 'invalidPath'], `The provided name '${name}' is not valid.`);
  }
}

/** Starts the simulator; resolves once it listens. */
export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  await mkdir(options.storageDir, { recursive: true });
  const tls = await createSimulatorTls(join(options.storageDir, 'tls'));
  const store: DriveStore = await createDriveStore(
    options.storageDir,
    {
      users: options.users ?? ['ops@contoso.com'],
      sites: options.sites ?? ['contoso.sharepoint.com:/sites/Sales'],
      quotaBytes: options.quotaBytes,
    },
    new Date(),
  );
  const faults = createFaultEngine(() => Date.now());
  const sessions = new Map<string, UploadSession>();
  const idleMs = (options.uploadSessionIdleSeconds ?? 900) * 1000;
  const stats: GraphSimulatorStats = {
    requests: 0,
    byOperation: {},
    tokensIssued: 0,
    uploadSessionsCreated: 0,
    uploadSessionsDeleted: 0,
    fragmentsAccepted: 0,
    largestFragment: 0,
    fragmentSizes: [],
    simpleUploads: 0,
    authorizationOnUploadUrl: 0,
    errors: [],
    log: [],
  };

  const server = https.createServer({ key: tls.key, cert: tls.cert });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;
  const graphBaseUrl = `${origin}/v1.0`;
  const tokens = createTokenService({
    origin,
    tenantId: options.tenantId,
    graphOrigin: origin,
    clients: options.clients,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    now: () => Date.now(),
    generation: () => faults.tokenGeneration(),
  });

  const itemJson = (item: SimItem): Record<string, unknown> => {
    const drive = store.driveById(item.driveId);
    const path = store.pathOf(item);
    const parent = item.parentId === undefined ? undefined : store.item(item.parentId);
    const parentPath = parent === undefined ? '' : store.pathOf(parent);
    return {
      id: item.id,
      name: item.name,
      size: item.size,
      eTag: `"{${item.id}},${item.version}"`,
      cTag: `"c:{${item.id}},${item.version}"`,
      createdDateTime: item.created.toISOString(),
      lastModifiedDateTime: item.modified.toISOString(),
      webUrl: `${origin}/web/${encodeURIComponent(drive?.diskName ?? '')}/${path.split('/').map(encodeURIComponent).join('/')}`,
      ...(parent === undefined
        ? {}
        : {
            parentReference: {
              driveId: item.driveId,
              id: parent.id,
              path: `/drives/${item.driveId}/root:${parentPath === '' ? '' : `/${parentPath}`}`,
            },
          }),
      ...(item.isFolder
        ? { folder: { childCount: store.children(item.id).length } }
        : {
            file: {
              mimeType: item.name.toLowerCase().endsWith('.xlsx')
                ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
                : 'application/octet-stream',
            },
          }),
    };
  };

  const requireDrive = (id: string): SimDrive => {
    const d = store.driveById(id);
    if (d === undefined) throw new HttpFault(404, ['itemNotFound'], 'The drive could not be found.');
    return d;
  };
  const requireItem = (drive: SimDrive, id: string): SimItem => {
    const item = store.item(id);
    if (item?.driveId !== drive.id) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
    return item;
  };
  /** Walks a decoded relative path from `start`; returns the item or the deepest existing folder plus the rest. */
  const walk = (
    start: SimItem,
    rel: string,
  ): { item: SimItem | undefined; parent: SimItem | undefined; name: string } => {
    const segs = rel
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    let cur = start;
    for (const [i, seg] of segs.entries()) {
      const next = store.child(cur.id, seg);
      if (next === undefined) {
        // Only the last segment may be missing for a create; a missing folder on the way means no parent.
        return { item: undefined, parent: i === segs.length - 1 ? cur : undefined, name: seg };
      }
      cur = next;
    }
    return { item: cur, parent: undefined, name: cur.name };
  };

  const readBody = (req: IncomingMessage, limit: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      req.on('data', (c: Buffer) => {
        total += c.length;
        if (total > limit) {
          reject(new HttpFault(413, ['maxFragmentLengthExceeded'], 'The request body is too large.'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const faultReply = (rule: FaultRule): Reply => {
    const codes = rule.codes ?? ['generalException'];
    return {
      status: rule.status ?? 500,
      body: errorBody(codes, rule.message ?? 'Injected fault'),
      headers: rule.retryAfter === undefined ? {} : { 'retry-after': rule.retryAfter },
    };
  };

  const authenticate = (req: IncomingMessage): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match === null) throw new HttpFault(401, ['InvalidAuthenticationToken'], 'Access token is empty.');
    const t = tokens.check(match[1] ?? '');
    if (t === undefined)
      throw new HttpFault(401, ['InvalidAuthenticationToken'], 'Access token has expired or is not yet valid.');
    if (!t.roles.some((r) => r === 'Files.ReadWrite.All' || r === 'Sites.ReadWrite.All')) {
      throw new HttpFault(403, ['accessDenied'], 'Either scp or roles claim need to be present in the token.');
    }
  };

  const commitSession = async (s: UploadSession, now: Date): Promise<Reply> => {
    const drive = requireDrive(s.driveId);
    const parent = requireItem(drive, s.parentId);
    const existing = store.child(parent.id, s.name);
    if (existing !== undefined && s.conflictBehavior === 'fail') {
      throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
    }
    let name = s.name;
    if (existing !== undefined && s.conflictBehavior === 'rename') name = freeName(parent, s.name);
    const { item, created } = await store.commitFile(parent, name, s.tempPath, s.size, now);
    sessions.delete(s.id);
    return { status: created ? 201 : 200, body: itemJson(item) };
  };

  const freeName = (parent: SimItem, name: string): string => {
    const dot = name.lastIndexOf('.');
    const base = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let n = 1; ; n++) if (store.child(parent.id, `${base} ${n}${ext}`) === undefined) return `${base} ${n}${ext}`;
  };

  // ---- upload URL (no bearer token; its credential is the `tempauth` query) -----------------------------------
  const handleUpload = async (req: IncomingMessage, url: URL): Promise<Reply | 'reset'> => {
    const id = url.pathname.split('/')[2] ?? '';
    const op: GraphOperation =
      req.method === 'PUT' ? 'uploadFragment' : req.method === 'GET' ? 'uploadStatus' : 'uploadCancel';
    count(op);
    const body = req.method === 'PUT' ? await readBody(req, MAX_FRAGMENT + 1024) : Buffer.alloc(0);
    if (req.headers.authorization !== undefined) {
      stats.authorizationOnUploadUrl++;
      throw new HttpFault(401, ['unauthenticated'], 'The upload URL must not be called with an Authorization header.');
    }
    const s = sessions.get(id);
    if (s === undefined || s.secret !== url.searchParams.get('tempauth') || s.expiresAtMs < Date.now()) {
      if (s !== undefined && s.expiresAtMs < Date.now()) sessions.delete(id);
      throw new HttpFault(404, ['itemNotFound', 'uploadSessionNotFound'], 'The upload session was not found.');
    }
    const parent = store.item(s.parentId);
    const path = parent === undefined ? undefined : [store.pathOf(parent), s.name].filter((x) => x !== '').join('/');
    const rule = faults.take(op, path);
    if (req.method === 'DELETE') {
      sessions.delete(id);
      await removeTemp(s.tempPath);
      stats.uploadSessionsDeleted++;
      return { status: 204 };
    }
    const statusBody = (): Record<string, unknown> => ({
      expirationDateTime: new Date(s.expiresAtMs).toISOString(),
      nextExpectedRanges: [`${s.received}-`],
    });
    if (req.method === 'GET') {
      if (rule !== undefined && (rule.action ?? 'respond') === 'respond') return faultReply(rule);
      return { status: 200, body: statusBody() };
    }
    // PUT fragment.
    if (rule?.action === 'expire-session') {
      sessions.delete(id);
      await removeTemp(s.tempPath);
      throw new HttpFault(404, ['itemNotFound', 'uploadSessionNotFound'], 'The upload session was not found.');
    }
    if (rule !== undefined && (rule.action ?? 'respond') === 'respond') return faultReply(rule);
    if (rule?.action === 'reset-before-store') return 'reset';
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] ?? '');
    if (range === null) throw new HttpFault(400, ['invalidRequest'], 'Content-Range header is missing or malformed.');
    const start = Number(range[1]);
    const end = Number(range[2]);
    const total = Number(range[3]);
    if (total !== s.size)
      throw new HttpFault(
        400,
        ['invalidRequest'],
        `Content-Range total ${total} does not match the session size ${s.size}.`,
      );
    if (end < start || end >= total || body.length !== end - start + 1) {
      throw new HttpFault(
        400,
        ['invalidRequest'],
        `Content-Range ${start}-${end} does not match the ${body.length} bytes sent.`,
      );
    }
    if (body.length >= MAX_FRAGMENT)
      throw new HttpFault(413, ['maxFragmentLengthExceeded'], 'Fragments must be smaller than 60 MiB.');
    if (start < s.received)
      throw new HttpFault(
        416,
        ['invalidRange', 'fragmentOverlap'],
        'The uploaded fragment overlaps with data that has already been received.',
      );
    if (start > s.received)
      throw new HttpFault(416, ['invalidRange'], `Fragments must be sent in order; expected offset ${s.received}.`);
    const isLast = end === total - 1;
    if (!isLast && body.length % FRAGMENT_UNIT !== 0) {
      throw new HttpFault(400, ['invalidRequest'], `Fragment size ${body.length} is not a multiple of 327680 bytes.`);
    }
    await appendFile(s.tempPath, body);
    s.received = end + 1;
    s.expiresAtMs = Date.now() + idleMs;
    stats.fragmentsAccepted++;
    stats.largestFragment = Math.max(stats.largestFragment, body.length);
    stats.fragmentSizes.push(body.length);
    const reply = isLast ? await commitSession(s, new Date()) : { status: 202, body: statusBody() };
    if (rule?.action === 'reset-after-store') return 'reset';
    return reply;
  };

  // ---- Graph API -----------------------------------------------------------------------------------------------
  const handleGraph = async (req: IncomingMessage, url: URL): Promise<Reply> => {
    const raw = url.pathname.slice('/v1.0'.length);
    if (/^\/me(\/|$)/i.test(raw)) {
      count('drive');
      authenticate(req);
      throw new HttpFault(400, ['BadRequest'], '/me request is only valid with delegated authentication flow.');
    }
    const [basePart = '', relPart, tailPart] = raw.split(':');
    const base = basePart.split('/').filter((s) => s !== '');
    const method = req.method ?? 'GET';

    // Sites: /sites/{host}:/{path}, /sites/{host}, /sites/{id}/drive
    if (base[0] === 'sites') {
      const host = decodeURIComponent(base[1] ?? '');
      if (base[2] === 'drive' && base.length === 3) {
        count('drive');
        authenticate(req);
        const d = store.siteById(host);
        if (d === undefined) throw new HttpFault(404, ['itemNotFound'], 'Requested site could not be found');
        return { status: 200, body: driveJson(d) };
      }
      count('site');
      authenticate(req);
      const address =
        relPart === undefined
          ? host
          : `${host}:/${relPart
              .split('/')
              .filter((s) => s !== '')
              .map(decodeURIComponent)
              .join('/')}`;
      const d =
        store.siteByAddress(address) ??
        store.drives.find((x) => x.site !== undefined && x.site.address.toLowerCase() === `${host}:/`.toLowerCase());
      if (d?.site === undefined) throw new HttpFault(404, ['itemNotFound'], 'Requested site could not be found');
      return {
        status: 200,
        body: { id: d.site.id, webUrl: `https://${host}/${relPart ?? ''}`, displayName: d.site.address },
      };
    }
    if (base[0] === 'users' && base[2] === 'drive' && base.length === 3) {
      count('drive');
      authenticate(req);
      const d = store.driveByUser(decodeURIComponent(base[1] ?? ''));
      if (d === undefined)
        throw new HttpFault(404, ['itemNotFound', 'ResourceNotFound'], 'User not found or has no OneDrive.');
      return { status: 200, body: driveJson(d) };
    }
    if (base[0] !== 'drives' || base[1] === undefined)
      throw new HttpFault(400, ['invalidRequest'], `Unsupported request path ${raw}`);
    const drive = store.driveById(decodeURIComponent(base[1]));
    if (base.length === 2 && relPart === undefined) {
      count('drive');
      authenticate(req);
      if (drive === undefined) throw new HttpFault(404, ['itemNotFound'], 'The drive could not be found.');
      return { status: 200, body: driveJson(drive) };
    }
    // Item address: root | items/{id}, then optional :/rel/path:, then optional action.
    let action: string | undefined;
    if (base[2] === 'root') {
      action = base[3];
    } else if (base[2] === 'items' && base[3] !== undefined) {
      action = base[4];
    } else {
      throw new HttpFault(400, ['invalidRequest'], `Unsupported request path ${raw}`);
    }
    if (relPart !== undefined) action = (tailPart ?? '').split('/').filter((s) => s !== '')[0];
    const op: GraphOperation =
      action === undefined
        ? 'item'
        : action === 'children'
          ? 'children'
          : action === 'content'
            ? 'content'
            : action === 'createUploadSession'
              ? 'createUploadSession'
              : action === 'versions'
                ? 'versions'
                : 'item';
    count(op);
    const body = method === 'PUT' || method === 'POST' ? await readBody(req, MAX_SIMPLE_UPLOAD) : Buffer.alloc(0);
    authenticate(req);
    if (drive === undefined) throw new HttpFault(404, ['itemNotFound'], 'The drive could not be found.');
    const start = base[2] === 'root' ? store.item(drive.rootId) : requireItem(drive, decodeURIComponent(base[3] ?? ''));
    if (start === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
    const target = relPart === undefined ? { item: start, parent: undefined, name: start.name } : walk(start, relPart);
    const targetPath =
      target.item !== undefined
        ? store.pathOf(target.item)
        : target.parent !== undefined
          ? [store.pathOf(target.parent), target.name].filter((x) => x !== '').join('/')
          : undefined;
    const rule = faults.take(op, targetPath);
    if (rule !== undefined) return faultReply(rule);

    switch (op) {
      case 'item':
        if (method !== 'GET') break;
        if (target.item === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
        return { status: 200, body: itemJson(target.item) };
      case 'versions': {
        if (target.item === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
        const it = target.item;
        const current = { id: `${it.version}.0`, size: it.size, lastModifiedDateTime: it.modified.toISOString() };
        const older = [...it.history]
          .reverse()
          .map((v) => ({ id: v.versionId, size: v.size, lastModifiedDateTime: v.modified.toISOString() }));
        return { status: 200, body: { value: [current, ...older] } };
      }
      case 'children': {
        if (method !== 'POST') break;
        const parent = target.item;
        if (parent === undefined || !parent.isFolder)
          throw new HttpFault(404, ['itemNotFound'], 'The parent folder could not be found.');
        const json = parseJsonBody(body);
        const name = typeof json['name'] === 'string' ? json['name'] : '';
        checkName(name);
        if (json['folder'] === undefined)
          throw new HttpFault(400, ['invalidRequest'], 'Only folders can be created here.');
        const behavior =
          typeof json['@microsoft.graph.conflictBehavior'] === 'string'
            ? json['@microsoft.graph.conflictBehavior']
            : 'fail';
        const existing = store.child(parent.id, name);
        if (existing !== undefined) {
          if (behavior === 'fail')
            throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
          if (behavior === 'replace' && existing.isFolder) return { status: 200, body: itemJson(existing) };
        }
        const folder = await store.createFolder(
          parent,
          behavior === 'rename' && existing !== undefined ? freeName(parent, name) : name,
        );
        return { status: 201, body: itemJson(folder) };
      }
      case 'content': {
        if (method !== 'PUT') break;
        const { parent, name } = contentTarget(target);
        checkName(name);
        const behavior = url.searchParams.get('@microsoft.graph.conflictBehavior') ?? 'replace';
        const existing = store.child(parent.id, name);
        if (existing?.isFolder === true)
          throw new HttpFault(409, ['nameAlreadyExists'], 'A folder with this name exists.');
        if (existing !== undefined && behavior === 'fail')
          throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
        checkQuota(drive, body.length);
        const temp = await store.writeTemp(body);
        const finalName = existing !== undefined && behavior === 'rename' ? freeName(parent, name) : name;
        const { item, created } = await store.commitFile(parent, finalName, temp, body.length, new Date());
        stats.simpleUploads++;
        return { status: created ? 201 : 200, body: itemJson(item) };
      }
      case 'createUploadSession': {
        if (method !== 'POST') break;
        const { parent, name } = contentTarget(target);
        checkName(name);
        const json = parseJsonBody(body);
        const item = (json['item'] ?? {}) as Record<string, unknown>;
        if (typeof item['name'] === 'string' && item['name'] !== name) {
          throw new HttpFault(400, ['invalidRequest'], 'The name in the body does not match the name in the URL.');
        }
        const fileSize = typeof item['fileSize'] === 'number' ? item['fileSize'] : undefined;
        if (fileSize === undefined)
          throw new HttpFault(400, ['invalidRequest'], 'item.fileSize is required by this simulator.');
        checkQuota(drive, fileSize);
        const behavior =
          typeof item['@microsoft.graph.conflictBehavior'] === 'string'
            ? item['@microsoft.graph.conflictBehavior']
            : 'fail';
        const session: UploadSession = {
          id: randomUUID(),
          secret: randomBytes(24).toString('base64url'),
          driveId: drive.id,
          parentId: parent.id,
          name,
          size: fileSize,
          conflictBehavior: behavior,
          tempPath: store.tempPath(),
          received: 0,
          expiresAtMs: Date.now() + idleMs,
        };
        await appendFile(session.tempPath, Buffer.alloc(0));
        sessions.set(session.id, session);
        stats.uploadSessionsCreated++;
        return {
          status: 200,
          body: {
            uploadUrl: `${origin}/up/${session.id}?tempauth=${session.secret}`,
            expirationDateTime: new Date(session.expiresAtMs).toISOString(),
            nextExpectedRanges: ['0-'],
          },
        };
      }
    }
    throw new HttpFault(405, ['invalidRequest'], `${method} is not supported on this resource.`);
  };

  const contentTarget = (target: {
    item: SimItem | undefined;
    parent: SimItem | undefined;
    name: string;
  }): { parent: SimItem; name: string } => {
    if (target.item !== undefined) {
      const parent = target.item.parentId === undefined ? undefined : store.item(target.item.parentId);
      if (parent === undefined || target.item.isFolder)
        throw new HttpFault(400, ['invalidRequest'], 'Cannot upload content to a folder.');
      return { parent, name: target.item.name };
    }
    if (target.parent === undefined || !target.parent.isFolder) {
      throw new HttpFault(409, ['conflict'], 'The parent folder of the item does not exist.');
    }
    return { parent: target.parent, name: target.name };
  };

  const checkQuota = (drive: SimDrive, bytes: number): void => {
    if (drive.quotaBytes !== undefined && store.usedBytes(drive.id) + bytes > drive.quotaBytes) {
      throw new HttpFault(507, ['quotaLimitReached'], 'Insufficient Space Available');
    }
  };

  const driveJson = (d: SimDrive): Record<string, unknown> => ({
    id: d.id,
    driveType: d.user !== undefined ? 'business' : 'documentLibrary',
    name: d.user !== undefined ? 'OneDrive' : 'Documents',
    webUrl: `${origin}/web/${encodeURIComponent(d.diskName)}`,
    quota: { total: d.quotaBytes ?? 1024 ** 4, used: store.usedBytes(d.id) },
  });

  const count = (op: string): void => {
    stats.byOperation[op] = (stats.byOperation[op] ?? 0) + 1;
  };

  // ---- dispatch ------------------------------------------------------------------------------------------------
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const requestId = randomUUID();
    const clientRequestId = req.headers['client-request-id'];
    const url = new URL(req.url ?? '/', origin);
    const send = (reply: Reply): void => {
      const headers: Record<string, string> = { 'request-id': requestId, ...reply.headers };
      if (typeof clientRequestId === 'string') headers['client-request-id'] = clientRequestId;
      if (reply.status >= 400) stats.errors.push({ op: lastOp(url, req.method), status: reply.status });
      stats.log.push({
        method: req.method ?? '',
        target: url.pathname.startsWith('/up/') ? '/up/…' : `${url.pathname}${url.search}`,
        status: reply.status,
      });
      if (reply.body === undefined) {
        res.writeHead(reply.status, headers).end();
        return;
      }
      const payload = Buffer.from(JSON.stringify(reply.body));
      res
        .writeHead(reply.status, {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(payload.length),
        })
        .end(payload);
    };
    const handle = async (): Promise<Reply | 'reset'> => {
      const segs = url.pathname.split('/').filter((s) => s !== '');
      if (segs[0] === 'up') return handleUpload(req, url);
      if (segs[0] === 'v1.0') return handleGraph(req, url);
      const tenant = decodeURIComponent(segs[0] ?? '');
      if (req.method === 'GET' && segs.slice(1).join('/') === 'v2.0/.well-known/openid-configuration') {
        return tokens.openidConfiguration(tenant);
      }
      if (req.method === 'GET' && segs.slice(1).join('/') === 'discovery/v2.0/keys')
        return { status: 200, body: { keys: [] } };
      if (req.method === 'POST' && segs.slice(1).join('/') === 'oauth2/v2.0/token') {
        count('token');
        const form = new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8'));
        const rule = faults.take('token', undefined);
        if (rule !== undefined) return faultReply(rule);
        const reply = tokens.issue(tenant, form);
        stats.tokensIssued = tokens.issuedCount();
        return reply;
      }
      throw new HttpFault(404, ['itemNotFound'], `No route for ${req.method ?? ''} ${url.pathname}`);
    };
    handle().then(
      (reply) => {
        if (reply === 'reset') {
          req.socket.destroy();
          return;
        }
        send(reply);
      },
      (error: unknown) => {
        if (error instanceof HttpFault) {
          // Drain what the client still sends so it reads our answer instead of a reset.
          req.resume();
          send({
            status: error.status,
            body: errorBody(error.codes, error.message, requestId),
            headers: error.headers,
          });
          return;
        }
        send({
          status: 500,
          body: errorBody(['generalException'], error instanceof Error ? error.message : String(error), requestId),
        });
      },
    );
  });

  const findItem = (ref: string): SimItem | undefined => {
    const byId = store.item(ref);
    if (byId !== undefined) return byId;
    for (const d of store.drives) {
      for (const label of d.labels) {
        if (ref.toLowerCase().startsWith(`${label.toLowerCase()}/`)) {
          const root = store.item(d.rootId);
          return root === undefined
            ? undefined
            : walk(
                root,
                ref
                  .slice(label.length + 1)
                  .split('/')
                  .map(encodeURIComponent)
                  .join('/'),
              ).item;
        }
      }
    }
    const first = store.drives[0];
    const root = first === undefined ? undefined : store.item(first.rootId);
    return root === undefined ? undefined : walk(root, ref.split('/').map(encodeURIComponent).join('/')).item;
  };

  return {
    authorityHost: origin,
    graphBaseUrl,
    caFile: tls.caFile,
    tenantId: options.tenantId,
    faults,
    stats,
    driveIdFor(selector) {
      const d = 'user' in selector ? store.driveByUser(selector.user) : store.siteByAddress(selector.site);
      if (d === undefined) throw new Error(`simulator has no drive for ${JSON.stringify(selector)}`);
      return d.id;
    },
    async readFile(ref) {
      const item = findItem(ref);
      if (item === undefined || item.isFolder) return undefined;
      return store.readBytes(item);
    },
    itemInfo(ref) {
      const item = findItem(ref);
      if (item === undefined) return undefined;
      return {
        id: item.id,
        driveId: item.driveId,
        path: store.pathOf(item),
        size: item.size,
        versions: item.history.length + 1,
        localPath: store.diskPathOf(item),
      };
    },
    openUploadSessions: () => sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function errorBody(codes: readonly string[], message: string, requestId: string = randomUUID()): unknown {
  // Nest the codes like Graph: {"error":{"code":"notAllowed","innerError":{"code":"resourceLocked",...}}}.
  let inner: Record<string, unknown> = { date: new Date().toISOString(), 'request-id': requestId };
  for (const code of [...codes].slice(1).reverse()) inner = { code, innerError: inner };
  return { error: { code: codes[0] ?? 'generalException', message, innerError: inner } };
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpFault(400, ['invalidRequest'], 'The request body must be a JSON object.');
}

function lastOp(url: URL, method: string | undefined): string {
  return `${method ?? ''} ${url.pathname.startsWith('/up/') ? '/up/…' : url.pathname}`;
}
