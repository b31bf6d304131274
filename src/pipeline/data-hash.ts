/**
 * The data hash of a run: what the teammates' file would show, not the xlsx bytes (which carry timestamps). Two runs
 * with the same hash build the same workbook, so the second upload can be skipped. Built in one place: a digest per
 * view ({@link contentViewDigest} over the bytes its rows were read from, or {@link createViewDigest} over the rows
 * themselves), then {@link combineDataHash} over the views and everything else that shapes the workbook.
 */
import { createHash } from 'node:crypto';
import type { RawRow } from '../shared/table.js';

const FIELD = '\u001f';
const RECORD = '\u001e';
const GROUP = '\u001d';
const HASH_BATCH_CHARS = 64 * 1024;

export interface ViewDigest {
  /** Adds one raw row (in the order the view sent them). */
  addRow(row: RawRow): void;
  /** The view's digest over its rows, its sheet name and its header; call once, after the last row. */
  finish(sheetName: string, header: readonly string[]): string;
}

/** Starts the digest of one view's rows. */
export function createViewDigest(): ViewDigest {
  const hash = createHash('sha256');
  // Rows are hashed in batches: one update() per row (two native calls) cost ≈ 0.5 s per million rows. The hashed
  // bytes, and so the digest, are the same.
  let pending = '';
  return {
    addRow(row) {
      pending += row.join(FIELD) + RECORD;
      if (pending.length >= HASH_BATCH_CHARS) {
        hash.update(pending);
        pending = '';
      }
    },
    finish(sheetName, header) {
      hash.update(pending);
      pending = '';
      hash.update(`${GROUP}${sheetName}${GROUP}${header.join(FIELD)}`);
      return hash.digest('hex');
    },
  };
}

/**
 * A view's digest from the SHA-256 of the bytes its rows come from (a CSV file or a spooled download): the same
 * bytes are the same rows, so digesting each row again (joining its fields, ≈ 0.8 s of CPU per million rows) is
 * not needed. The sheet name and the header (after any pivot) are in it as in the row digest. Quoted the same
 * data differently, a file gets another digest: one more upload, never a missed change.
 */
export function contentViewDigest(contentSha256: string, sheetName: string, header: readonly string[]): string {
  return createHash('sha256')
    .update(`content${GROUP}${contentSha256}${GROUP}${sheetName}${GROUP}${header.join(FIELD)}`)
    .digest('hex');
}

/**
 * The run's data hash: the views' digests in sheet order, the export's settings, the tool version and, when metrics
 * are on, their as-of day (days in stage change daily even on the same data).
 */
export function combineDataHash(parts: {
  readonly views: readonly string[];
  readonly exportSettings: unknown;
  readonly toolVersion: string;
  readonly metricsAsOf?: Date | undefined;
}): string {
  const hash = createHash('sha256');
  for (const view of parts.views) hash.update(`${view}${GROUP}`);
  hash.update(`${JSON.stringify(parts.exportSettings)}${GROUP}${parts.toolVersion}`);
  if (parts.metricsAsOf !== undefined) hash.update(`${GROUP}${parts.metricsAsOf.toISOString().slice(0, 10)}`);
  return hash.digest('hex');
}
