/**
 * The team's shared-string table, read only for the strings update mode needs (the keys of rows whose teammate
 * values must follow them, and the values of rows that are dropped). Streams the part; keeps what was asked for.
 */
import { StringDecoder } from 'node:string_decoder';
import type { ZipReader } from './zip-reader.js';
import { textOfRich } from './team-table.js';

/** The texts of shared strings `wanted` (index → text); missing indexes are left out. */
export async function readSharedStrings(
  zip: ZipReader,
  partName: string | undefined,
  wanted: ReadonlySet<number>,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const entry = partName === undefined ? undefined : zip.get(partName);
  if (entry === undefined || wanted.size === 0) return found;
  const last = Math.max(...wanted);
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  let index = 0;
  const stream = await zip.openStream(entry);
  try {
    for await (const chunk of stream) {
      buffer += decoder.write(chunk as Buffer);
      let pos = 0;
      for (;;) {
        const open = buffer.slice(pos).search(/<(?:[\w.-]+:)?si[\s>/]/);
        if (open < 0) break;
        const start = pos + open;
        const tagEnd = buffer.indexOf('>', start);
        if (tagEnd < 0) break;
        let end: number;
        if (buffer[tagEnd - 1] === '/') end = tagEnd + 1;
        else {
          const close = buffer.slice(tagEnd).search(/<\/(?:[\w.-]+:)?si>/);
          if (close < 0) break;
          end = buffer.indexOf('>', tagEnd + close) + 1;
        }
        if (wanted.has(index)) found.set(index, textOfRich(buffer.slice(start, end)));
        index += 1;
        pos = end;
      }
      buffer = buffer.slice(pos);
      if (index > last) break;
    }
  } finally {
    stream.destroy();
  }
  return found;
}
