/**
 * Reads a CSV file (a Tableau `/data` download spooled to disk, or a local file) as a {@link RawTable} of display
 * strings. UTF-8 unless a BOM says UTF-16 (Tableau's crosstab export: UTF-16LE, tab-separated); the charset is never
 * guessed from the bytes (guessing is how other clients got mojibake on CJK text). Comma or tab separated (from the
 * header line), CRLF or LF line endings and RFC 4180 quoting (see `csv-parser.ts`). Malformed input is an error that
 * names the file and the line, never a silently shifted column; invalid UTF-8 is a run warning saying where.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { SourceError } from '../../shared/errors.js';
import type { RawTable } from '../../contracts/ports.js';
import type { Provenance, RawRow } from '../../shared/table.js';
import { createCsvByteParser, type CsvByteParser, type CsvProblem, type InvalidTextReport } from './csv-parser.js';

export interface OpenCsvTableOptions {
  readonly provenance: Provenance;
  /** Bytes received from the source; defaults to the file size. */
  readonly bytes?: number;
  readonly warnings?: readonly string[];
  /** Delete the file on dispose() (spooled downloads); false for a user's own file. */
  readonly removeOnDispose: boolean;
  /** How error messages name the data (shown in double quotes); defaults to the path. */
  readonly label?: string;
}

// Big reads save I/O round trips; small parse slices keep few records alive at a time. A slice's records wait in
// memory until the consumer takes them, long enough to be promoted out of V8's young generation when the consumer
// is the workbook writer: parsing 256 KiB at a time cost ≈ +80 MiB of peak RSS in a 1M-row run; 32 KiB, at equal speed, none.
const READ_CHUNK_BYTES = 256 * 1024;
const PARSE_SLICE_BYTES = 32 * 1024;

const MALFORMED_HINT =
  'every row must have as many fields as the header; a field containing a comma, a double quote or a line break ' +
  'must be enclosed in double quotes, with quotes inside it doubled ("The ""Best"" Widgets")';

function describeProblem(problem: CsvProblem): string {
  switch (problem.kind) {
    case 'ragged-row':
      return `row has ${problem.fields} fields, the header has ${problem.expected}`;
    case 'unclosed-quote':
      return 'a quoted field is never closed (it opens on this line and the file ends inside the double quotes)';
    case 'text-after-closing-quote':
      return 'unexpected character after a closing double quote';
    case 'quote-in-unquoted-field':
      return 'a double quote inside an unquoted field';
  }
}

function malformed(problem: CsvProblem, label: string, path: string): SourceError {
  return new SourceError('CSV_MALFORMED', `"${label}" line ${problem.line}: ${describeProblem(problem)}`, {
    hint: MALFORMED_HINT,
    details: { file: path, line: problem.line },
  });
}

/** The run warning for bytes that are not UTF-8: where, how many, what they became and the fix. */
export function describeInvalidText(label: string, invalid: InvalidTextReport): string {
  const many = invalid.count === 1 ? 'sequence' : 'sequences';
  return (
    `"${label}" has ${invalid.count.toLocaleString('en-US')} invalid UTF-8 byte ${many} (the first on line ` +
    `${invalid.firstLine}, at byte ${invalid.firstByte.toLocaleString('en-US')}), written as "\uFFFD"; ` +
    "save the file as UTF-8, or as UTF-16 with its byte-order mark (Tableau's crosstab export)"
  );
}

/** Turns file-system errors into SourceErrors that name the file and the fix. */
function fileError(err: unknown, label: string, path: string): SourceError {
  if (err instanceof SourceError) return err;
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (code === 'ENOENT') {
    return new SourceError('CSV_NOT_FOUND', `"${label}": file not found (${path})`, {
      hint: 'check the path; relative paths are resolved from the folder of the configuration file',
      cause: err,
    });
  }
  return new SourceError(
    'CSV_READ_FAILED',
    `"${label}": cannot read the file: ${err instanceof Error ? err.message : String(err)}`,
    {
      cause: err,
    },
  );
}

interface RecordIterator extends AsyncIterableIterator<string[]> {
  /** Stops early and releases the file. */
  return(): Promise<IteratorResult<string[], undefined>>;
}

/**
 * Iterates the records of `path` from the start, skipping the first `skip` (the header). A hand-made iterator
 * rather than an async generator: a parsed slice holds about two hundred records, and handing each one out as an
 * already-resolved promise costs less than a generator's suspend/resume per row (≈ 0.4 s per million rows). The file handle is released
 * however the consumer stops (end, break or error).
 *
 * @throws SourceError `CSV_MALFORMED` after yielding the records before the problem; `CSV_NOT_FOUND`,
 *   `CSV_READ_FAILED` for file-system errors.
 */
function iterateRecords(
  path: string,
  label: string,
  skip: number,
  onComplete?: (parser: CsvByteParser) => void,
  content?: Hash,
): RecordIterator {
  const parser = createCsvByteParser();
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let handle: FileHandle | undefined;
  // Bytes in `buffer` from the last read, and how far the parser has taken them.
  let readBytes = -1;
  let sliceAt = 0;
  let batch: string[][] = [];
  let index = 0;
  let toSkip = skip;
  let ended = false;
  let failure: SourceError | undefined;

  async function release(): Promise<void> {
    ended = true;
    const h = handle;
    handle = undefined;
    await h?.close();
  }

  /** Reads and parses slices until a record is ready, the file ends, or it fails. */
  async function fill(): Promise<IteratorResult<string[], undefined>> {
    for (;;) {
      if (index < batch.length) return { value: batch[index++] as string[], done: false };
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        throw err;
      }
      if (ended) return { value: undefined, done: true };
      batch = [];
      index = 0;
      let problem: CsvProblem | undefined;
      if (sliceAt >= readBytes) {
        try {
          handle ??= await open(path, 'r');
          readBytes = (await handle.read(buffer, 0, READ_CHUNK_BYTES, null)).bytesRead;
          sliceAt = 0;
          if (readBytes > 0) content?.update(buffer.subarray(0, readBytes));
          if (readBytes === 0) await release();
        } catch (err) {
          await release().catch(() => undefined);
          throw fileError(err, label, path);
        }
      }
      if (readBytes === 0) {
        problem = parser.end(batch);
        if (problem === undefined) onComplete?.(parser);
      } else {
        const sliceEnd = Math.min(sliceAt + PARSE_SLICE_BYTES, readBytes);
        problem = parser.write(buffer.subarray(sliceAt, sliceEnd), batch);
        sliceAt = sliceEnd;
      }
      if (problem !== undefined) {
        failure = malformed(problem, label, path);
        await release();
      }
      if (toSkip > 0) {
        const skipped = Math.min(toSkip, batch.length);
        index = skipped;
        toSkip -= skipped;
      }
    }
  }

  return {
    next(): Promise<IteratorResult<string[], undefined>> {
      if (index < batch.length) return Promise.resolve({ value: batch[index++] as string[], done: false });
      return fill();
    },
    async return(): Promise<IteratorResult<string[], undefined>> {
      batch = [];
      failure = undefined;
      await release();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Opens a CSV file as a {@link RawTable}. The header is read once here; each `rows()` call re-reads the file from
 * the start and yields the data rows (string arrays aligned with the header), streaming, so memory does not grow
 * with the file.
 *
 * @throws SourceError `CSV_NOT_FOUND` (no such file), `CSV_EMPTY` (no header), `CSV_MALFORMED` (here for a bad
 *   header, later from `rows()` for a ragged row or bad quoting, naming the 1-based line).
 */
export async function openCsvTable(path: string, options: OpenCsvTableOptions): Promise<RawTable> {
  const label = options.label ?? path;
  let header: string[] | undefined;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw fileError(err, label, path);
  }
  const records = iterateRecords(path, label, 0);
  try {
    // One record only: a problem further on is reported by rows(), not by opening the file.
    const first = await records.next();
    if (first.done !== true) header = first.value;
  } finally {
    await records.return();
  }
  if (header === undefined) {
    throw new SourceError('CSV_EMPTY', `"${label}" is empty: expected a header row of column names`, {
      hint: 'check that the view or file has data; a Tableau view with no marks exports an empty file',
      details: { file: path },
    });
  }
  const columns: readonly string[] = header;
  let disposed = false;
  // Grows once, at the end of the first complete pass over the rows (a one-pass write's read, update mode's typing
  // pass): invalid UTF-8 is only known once every byte was decoded, and reading the file an extra time to know it
  // sooner would cost every run for a rare case.
  const warnings: string[] = [...(options.warnings ?? [])];
  let checked = false;
  const onComplete = (parser: CsvByteParser): void => {
    if (checked) return;
    checked = true;
    const invalid = parser.invalidText();
    if (invalid !== undefined) warnings.push(describeInvalidText(label, invalid));
  };

  // The bytes are digested during the first complete pass (the file's own bytes, header included), while read.
  let contentDigest: string | undefined;
  const readRows = (): RecordIterator => {
    const content = contentDigest === undefined ? createHash('sha256') : undefined;
    return iterateRecords(
      path,
      label,
      1,
      (parser) => {
        onComplete(parser);
        if (content !== undefined) contentDigest ??= content.digest('hex');
      },
      content,
    );
  };

  return {
    header: columns,
    provenance: options.provenance,
    warnings,
    bytes: options.bytes ?? size,
    rows: (): AsyncIterable<RawRow> => ({ [Symbol.asyncIterator]: readRows }),
    contentDigest: () => contentDigest,
    async dispose(): Promise<void> {
      if (disposed || !options.removeOnDispose) return;
      disposed = true;
      await rm(path, { force: true });
    },
  };
}
