/**
 * Resumable upload: `POST …/createUploadSession` opens a session, then its upload URL (no bearer token; its
 * credential is the `tempauth` query) takes fragments in order (PUT, multiples of 320 KiB but the last, under 60 MiB,
 * exact Content-Range), answers its status (GET) or is cancelled (DELETE). The last byte commits the file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { removeTemp, type SimDrive } from '../drive-store.js';
import type { FaultRule, GraphOperation } from '../faults.js';
import { itemJson } from '../graph-json.js';
import { faultReply, HttpFault, type Reply } from '../graph-reply.js';
import { countOperation, type GraphSimState, type UploadSession } from '../graph-state.js';
import { requireDrive, requireItem, type ItemTarget } from '../item-path.js';
import { checkName, freeName } from '../item-names.js';
import { parseJsonBody, readBody } from '../request-body.js';
import { checkQuota, contentTarget } from './write-target.js';

export const FRAGMENT_UNIT = 327_680;
const MAX_FRAGMENT = 60 * 1024 * 1024;

/**
 * `POST …:/name:/createUploadSession` with `item.fileSize` (required here) and its conflict behaviour. Its If-Match
 * header was checked by the caller (write-conditions.ts), once, when the session is created: that is where Graph
 * documents it.
 */
export async function createUploadSession(
  state: GraphSimState,
  drive: SimDrive,
  target: ItemTarget,
  body: Buffer,
): Promise<Reply> {
  const { parent, name } = contentTarget(state.store, target);
  checkName(name);
  const json = parseJsonBody(body);
  const item = (json['item'] ?? {}) as Record<string, unknown>;
  if (typeof item['name'] === 'string' && item['name'] !== name) {
    throw new HttpFault(400, ['invalidRequest'], 'The name in the body does not match the name in the URL.');
  }
  const fileSize = typeof item['fileSize'] === 'number' ? item['fileSize'] : undefined;
  if (fileSize === undefined)
    throw new HttpFault(400, ['invalidRequest'], 'item.fileSize is required by this simulator.');
  checkQuota(state.store, drive, fileSize);
  const behavior =
    typeof item['@microsoft.graph.conflictBehavior'] === 'string' ? item['@microsoft.graph.conflictBehavior'] : 'fail';
  // Checked now and again at commit: a name taken before the session starts fails before any byte is sent.
  if (behavior === 'fail' && state.store.child(parent.id, name) !== undefined) {
    throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
  }
  const session: UploadSession = {
    id: randomUUID(),
    secret: randomBytes(24).toString('base64url'),
    driveId: drive.id,
    parentId: parent.id,
    name,
    size: fileSize,
    conflictBehavior: behavior,
    tempPath: state.store.tempPath(),
    received: 0,
    expiresAtMs: Date.now() + state.uploadSessionIdleMs,
  };
  await appendFile(session.tempPath, Buffer.alloc(0));
  state.sessions.set(session.id, session);
  state.stats.uploadSessionsCreated++;
  return {
    status: 200,
    body: {
      uploadUrl: `${state.origin}/up/${session.id}?tempauth=${session.secret}`,
      expirationDateTime: new Date(session.expiresAtMs).toISOString(),
      nextExpectedRanges: ['0-'],
    },
  };
}

/**
 * A request to an upload URL (`/up/{id}?tempauth=…`). Resolves `'reset'` when a fault drops the connection; throws
 * 401 for an Authorization header (Graph refuses a bearer token there) and 404 for an unknown or expired session.
 */
export async function routeUploadUrl(state: GraphSimState, req: IncomingMessage, url: URL): Promise<Reply | 'reset'> {
  const { store, sessions, stats } = state;
  const id = url.pathname.split('/')[2] ?? '';
  const op: GraphOperation =
    req.method === 'PUT' ? 'uploadFragment' : req.method === 'GET' ? 'uploadStatus' : 'uploadCancel';
  countOperation(state, op);
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
  const rule = state.faults.take(op, path);
  if (req.method === 'DELETE') {
    sessions.delete(id);
    await removeTemp(s.tempPath);
    stats.uploadSessionsDeleted++;
    return { status: 204 };
  }
  if (req.method === 'GET') {
    if (rule !== undefined && (rule.action ?? 'respond') === 'respond') return faultReply(rule);
    return { status: 200, body: uploadStatusBody(s) };
  }
  return acceptFragment(state, req, s, body, rule);
}

function uploadStatusBody(s: UploadSession): Record<string, unknown> {
  return {
    expirationDateTime: new Date(s.expiresAtMs).toISOString(),
    nextExpectedRanges: [`${s.received}-`],
  };
}

/** A PUT fragment: checked against the session like Graph does, appended, and committed when it is the last one. */
async function acceptFragment(
  state: GraphSimState,
  req: IncomingMessage,
  s: UploadSession,
  body: Buffer,
  rule: FaultRule | undefined,
): Promise<Reply | 'reset'> {
  const { stats } = state;
  if (rule?.action === 'expire-session') {
    state.sessions.delete(s.id);
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
  s.expiresAtMs = Date.now() + state.uploadSessionIdleMs;
  stats.fragmentsAccepted++;
  stats.largestFragment = Math.max(stats.largestFragment, body.length);
  stats.fragmentSizes.push(body.length);
  const reply = isLast ? await commitSession(state, s, new Date()) : { status: 202, body: uploadStatusBody(s) };
  if (rule?.action === 'reset-after-store') return 'reset';
  return reply;
}

/** Moves the session's bytes into place with its conflict behaviour and closes the session. */
async function commitSession(state: GraphSimState, s: UploadSession, now: Date): Promise<Reply> {
  const { store } = state;
  const drive = requireDrive(store, s.driveId);
  const parent = requireItem(store, drive, s.parentId);
  const existing = store.child(parent.id, s.name);
  if (existing !== undefined && s.conflictBehavior === 'fail') {
    throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
  }
  let name = s.name;
  if (existing !== undefined && s.conflictBehavior === 'rename') name = freeName(store, parent, s.name);
  const { item, created } = await store.commitFile(parent, name, s.tempPath, s.size, now);
  state.sessions.delete(s.id);
  return { status: created ? 201 : 200, body: itemJson(store, state.origin, item) };
}
