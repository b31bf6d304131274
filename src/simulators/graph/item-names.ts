/** OneDrive's rules for item names: which are refused, and the free name `rename` conflict behaviour picks. */
import type { DriveStore, SimItem } from './drive-store.js';
import { HttpFault } from './graph-reply.js';

const FORBIDDEN_NAME_CHARS = /["*:<>?/\\|]/;
const RESERVED = /^(\.lock|con|prn|aux|nul|com[0-9]|lpt[0-9]|desktop\.ini)(\..*)?$/i;

/** Throws the 400 invalidPath OneDrive answers for a forbidden or reserved name. */
export function checkName(name: string): void {
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

/** The first `name 1.ext`, `name 2.ext`, … not taken in `parent`. */
export function freeName(store: DriveStore, parent: SimItem, name: string): string {
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 1; ; n++) if (store.child(parent.id, `${base} ${n}${ext}`) === undefined) return `${base} ${n}${ext}`;
}
