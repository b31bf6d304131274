/** A fetched table with what the run found about it before fetching (dashboard notes, data age) added. */
import type { RawTable } from '../contracts/ports.js';

/**
 * The same table, its warnings preceded by `warnings` and its provenance extended by `provenance`; rows and
 * dispose go to the original.
 */
export function annotateTable(
  raw: RawTable,
  extra: { readonly warnings: readonly string[]; readonly provenance: Readonly<Record<string, string>> },
): RawTable {
  if (extra.warnings.length === 0 && Object.keys(extra.provenance).length === 0) return raw;
  return {
    header: raw.header,
    rows: () => raw.rows(),
    provenance: { ...raw.provenance, ...extra.provenance },
    // A getter: a source adds warnings while its rows are read (invalid UTF-8 is counted by the first pass).
    get warnings() {
      return [...extra.warnings, ...raw.warnings];
    },
    bytes: raw.bytes,
    contentDigest: raw.contentDigest,
    dispose: () => raw.dispose(),
  };
}
