/**
 * Items of a drive, addressed as Graph does: `/drives/{id}/root` or `/drives/{id}/items/{itemId}`, then an optional
 * `:/relative/path:`, then an optional action (`children`, `content`, `createUploadSession`, `versions`). The
 * operation is counted and authenticated, the fault engine consulted for its path, then the operation answers:
 * item metadata and versions, folder creation here; downloads in `download-routes.ts`; file writes in
 * `content-route.ts` and `upload-session-routes.ts`, after the write conditions (`write-conditions.ts`).
 */
import type { IncomingMessage } from 'node:http';
import { authenticate } from '../bearer-auth.js';
import type { SimDrive } from '../drive-store.js';
import type { GraphOperation } from '../faults.js';
import { itemJson } from '../graph-json.js';
import { faultReply, HttpFault, type Reply } from '../graph-reply.js';
import { countOperation, type GraphSimState } from '../graph-state.js';
import { requireItem, walk, type ItemTarget } from '../item-path.js';
import { checkName, freeName } from '../item-names.js';
import { parseJsonBody, readBody } from '../request-body.js';
import { putContent } from './content-route.js';
import { redirectToContent } from './download-routes.js';
import { createUploadSession } from './upload-session-routes.js';
import { applyTeammateSave, checkIfMatch } from './write-conditions.js';

const MAX_SIMPLE_UPLOAD = 250 * 1024 * 1024;

/** A Graph path split at its `:` delimiters. */
export interface ItemAddress {
  /** The path after `/v1.0`, for messages. */
  readonly raw: string;
  /** Segments before the first `:`. */
  readonly base: readonly string[];
  /** The relative path between the `:`s, if any. */
  readonly relPart: string | undefined;
  /** What follows the second `:` (the action). */
  readonly tailPart: string | undefined;
}

/** Answers a request on an item of `drive` (undefined when the drive id is unknown: a 404 after authentication). */
export async function routeItemRequest(
  state: GraphSimState,
  req: IncomingMessage,
  url: URL,
  address: ItemAddress,
  drive: SimDrive | undefined,
): Promise<Reply> {
  const { store } = state;
  const { raw, base, relPart, tailPart } = address;
  const method = req.method ?? 'GET';
  let action: string | undefined;
  if (base[2] === 'root') {
    action = base[3];
  } else if (base[2] === 'items' && base[3] !== undefined) {
    action = base[4];
  } else {
    throw new HttpFault(400, ['invalidRequest'], `Unsupported request path ${raw}`);
  }
  if (relPart !== undefined) action = (tailPart ?? '').split('/').filter((s) => s !== '')[0];
  const op = operationOf(action, method);
  countOperation(state, op);
  const body = method === 'PUT' || method === 'POST' ? await readBody(req, MAX_SIMPLE_UPLOAD) : Buffer.alloc(0);
  authenticate(state.tokens, req);
  if (drive === undefined) throw new HttpFault(404, ['itemNotFound'], 'The drive could not be found.');
  const start =
    base[2] === 'root' ? store.item(drive.rootId) : requireItem(store, drive, decodeURIComponent(base[3] ?? ''));
  if (start === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
  const target: ItemTarget =
    relPart === undefined ? { item: start, parent: undefined, name: start.name } : walk(store, start, relPart);
  const targetPath =
    target.item !== undefined
      ? store.pathOf(target.item)
      : target.parent !== undefined
        ? [store.pathOf(target.parent), target.name].filter((x) => x !== '').join('/')
        : undefined;
  const rule = state.faults.take(op, targetPath);
  if (rule !== undefined) return faultReply(rule);

  const reply = await answerOperation(state, op, { req, method, url, drive, target, targetPath, body });
  if (reply !== undefined) return reply;
  throw new HttpFault(405, ['invalidRequest'], `${method} is not supported on this resource.`);
}

/**
 * The operation an action names; an unknown action counts as the item itself (a GET answers its metadata). Reading
 * content is its own operation: a lock (open in Excel) blocks writes, not downloads.
 */
function operationOf(action: string | undefined, method: string): GraphOperation {
  return action === undefined
    ? 'item'
    : action === 'children'
      ? 'children'
      : action === 'content'
        ? method === 'GET'
          ? 'contentDownload'
          : 'content'
        : action === 'createUploadSession'
          ? 'createUploadSession'
          : action === 'versions'
            ? 'versions'
            : 'item';
}

/** The answer of `op` on `target`; undefined when the method is not the operation's (a 405). */
async function answerOperation(
  state: GraphSimState,
  op: GraphOperation,
  call: {
    readonly req: IncomingMessage;
    readonly method: string;
    readonly url: URL;
    readonly drive: SimDrive;
    readonly target: ItemTarget;
    readonly targetPath: string | undefined;
    readonly body: Buffer;
  },
): Promise<Reply | undefined> {
  const { req, method, url, drive, target, body } = call;
  /** A write lands after a teammate's pending save and only if its If-Match still holds. */
  const conditioned = async (): Promise<ItemTarget> => {
    const now = await applyTeammateSave(state, drive, target, call.targetPath);
    checkIfMatch(state, req, now);
    return now;
  };
  switch (op) {
    case 'item':
      if (method !== 'GET') return undefined;
      if (target.item === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
      return { status: 200, body: itemJson(state.store, state.origin, target.item) };
    case 'versions':
      return listVersions(target);
    case 'children':
      return method === 'POST' ? createFolder(state, target, body) : undefined;
    case 'contentDownload':
      return method === 'GET' ? redirectToContent(state, target) : undefined;
    case 'content':
      return method === 'PUT' ? putContent(state, url, drive, await conditioned(), body) : undefined;
    case 'createUploadSession':
      return method === 'POST' ? createUploadSession(state, drive, await conditioned(), body) : undefined;
    default:
      return undefined;
  }
}

/** `…/versions`: the current version first, then older ones, newest first. */
function listVersions(target: ItemTarget): Reply {
  if (target.item === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
  const it = target.item;
  const current = { id: `${it.version}.0`, size: it.size, lastModifiedDateTime: it.modified.toISOString() };
  const older = [...it.history]
    .reverse()
    .map((v) => ({ id: v.versionId, size: v.size, lastModifiedDateTime: v.modified.toISOString() }));
  return { status: 200, body: { value: [current, ...older] } };
}

/** `POST …/children` with `{ name, folder: {} }` and a conflict behaviour (default `fail`). */
async function createFolder(state: GraphSimState, target: ItemTarget, body: Buffer): Promise<Reply> {
  const { store } = state;
  const parent = target.item;
  if (parent === undefined || !parent.isFolder)
    throw new HttpFault(404, ['itemNotFound'], 'The parent folder could not be found.');
  const json = parseJsonBody(body);
  const name = typeof json['name'] === 'string' ? json['name'] : '';
  checkName(name);
  if (json['folder'] === undefined) throw new HttpFault(400, ['invalidRequest'], 'Only folders can be created here.');
  const behavior =
    typeof json['@microsoft.graph.conflictBehavior'] === 'string' ? json['@microsoft.graph.conflictBehavior'] : 'fail';
  const existing = store.child(parent.id, name);
  if (existing !== undefined) {
    if (behavior === 'fail') throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
    if (behavior === 'replace' && existing.isFolder)
      return { status: 200, body: itemJson(store, state.origin, existing) };
  }
  const folder = await store.createFolder(
    parent,
    behavior === 'rename' && existing !== undefined ? freeName(store, parent, name) : name,
  );
  return { status: 201, body: itemJson(store, state.origin, folder) };
}
