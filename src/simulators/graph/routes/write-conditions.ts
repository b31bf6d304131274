/**
 * What stands between a write and the file it would replace, in Graph's order: a simulated teammate's save (a fault)
 * lands first, then the request's `If-Match` is evaluated against the file as it now is (412 preconditionFailed on
 * a mismatch, as Graph answers when the item changed since the caller read it).
 */
import type { IncomingMessage } from 'node:http';
import type { SimDrive } from '../drive-store.js';
import { cTagOf, eTagOf } from '../graph-json.js';
import { HttpFault } from '../graph-reply.js';
import type { GraphSimState } from '../graph-state.js';
import type { ItemTarget } from '../item-path.js';
import { contentTarget } from './write-target.js';

/**
 * Applies a pending teammate save to the file at `target` (see GraphFaults.teammateSavesBeforeNextUpload) and
 * returns the target as it is afterwards. `path` is the drive-relative path of the target.
 */
export async function applyTeammateSave(
  state: GraphSimState,
  drive: SimDrive,
  target: ItemTarget,
  path: string | undefined,
): Promise<ItemTarget> {
  const save = state.faults.takeTeammateSave((ref) => refersTo(ref, drive, target, path));
  if (save === undefined) return target;
  const { store } = state;
  const { parent, name } = contentTarget(store, target);
  const temp = await store.writeTemp(save.bytes);
  const { item } = await store.commitFile(parent, name, temp, save.bytes.length, new Date());
  state.stats.teammateSaves++;
  return { item, parent: undefined, name: item.name };
}

function refersTo(ref: string, drive: SimDrive, target: ItemTarget, path: string | undefined): boolean {
  if (target.item !== undefined && ref === target.item.id) return true;
  if (path === undefined) return false;
  const wanted = ref.replace(/^\/+/, '').toLowerCase();
  const lower = path.toLowerCase();
  return wanted === lower || drive.labels.some((label) => wanted === `${label.toLowerCase()}/${lower}`);
}

/** An entity-tag list as RFC 9110 writes it: `*`, or quoted tags (optionally weak) separated by commas. */
const TAG_LIST = /^\s*(?:W\/)?"[^"]*"\s*(?:,\s*(?:W\/)?"[^"]*"\s*)*$/;

/**
 * Throws 412 preconditionFailed when the request has `If-Match` and the target's eTag and cTag both differ (or the
 * target does not exist); 400 malformedEntityTag for an unquoted tag, which Graph refuses.
 */
export function checkIfMatch(state: GraphSimState, req: IncomingMessage, target: ItemTarget): void {
  const header = req.headers['if-match'];
  if (header === undefined) return;
  const value = header.trim();
  if (value !== '*' && !TAG_LIST.test(value)) {
    throw new HttpFault(
      400,
      ['invalidRequest', 'malformedEntityTag'],
      'The If-Match header is not a quoted entity tag.',
    );
  }
  const item = target.item;
  const tags = value === '*' ? [] : [...value.matchAll(/(?:W\/)?("[^"]*")/g)].map((m) => m[1]);
  const matches = item !== undefined && (value === '*' || tags.includes(eTagOf(item)) || tags.includes(cTagOf(item)));
  if (matches) return;
  state.stats.preconditionFailures++;
  throw new HttpFault(
    412,
    ['preconditionFailed', 'resourceModified'],
    item === undefined
      ? 'The resource does not exist, so it cannot match the If-Match header.'
      : 'The resource has been modified since it was last read (If-Match does not match its eTag).',
  );
}
