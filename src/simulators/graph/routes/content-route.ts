/** Simple upload: `PUT …/content` writes the whole file in one request (Graph allows it up to 250 MB). */
import type { SimDrive } from '../drive-store.js';
import type { GraphSimState } from '../graph-state.js';
import type { Reply } from '../graph-reply.js';
import { HttpFault } from '../graph-reply.js';
import { itemJson } from '../graph-json.js';
import type { ItemTarget } from '../item-path.js';
import { checkName, freeName } from '../item-names.js';
import { checkQuota, contentTarget } from './write-target.js';

/**
 * Writes `body` as the file at `target` with the `@microsoft.graph.conflictBehavior` query (default `replace`):
 * 201 for a new file, 200 for a replaced one (same id, one more version).
 */
export async function putContent(
  state: GraphSimState,
  url: URL,
  drive: SimDrive,
  target: ItemTarget,
  body: Buffer,
): Promise<Reply> {
  const { store } = state;
  const { parent, name } = contentTarget(store, target);
  checkName(name);
  const behavior = url.searchParams.get('@microsoft.graph.conflictBehavior') ?? 'replace';
  const existing = store.child(parent.id, name);
  if (existing?.isFolder === true) throw new HttpFault(409, ['nameAlreadyExists'], 'A folder with this name exists.');
  if (existing !== undefined && behavior === 'fail')
    throw new HttpFault(409, ['nameAlreadyExists'], 'The specified item name already exists.');
  checkQuota(store, drive, body.length);
  const temp = await store.writeTemp(body);
  const finalName = existing !== undefined && behavior === 'rename' ? freeName(store, parent, name) : name;
  const { item, created } = await store.commitFile(parent, finalName, temp, body.length, new Date());
  state.stats.simpleUploads++;
  return { status: created ? 201 : 200, body: itemJson(store, state.origin, item) };
}
