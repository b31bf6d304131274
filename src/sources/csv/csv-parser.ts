/**
 * An incremental RFC 4180 CSV parser over decoded text, as strict as csv-parse's defaults (which it replaces on the
 * hot path: it is about 4× faster) and giving the same records for the same input:
 * - fields separated by `,` (or a tab, see {@link CsvParserOptions}); a field starting with `"` is quoted, `""`
 *   inside it is one `"`, and it may hold delimiters and line breaks; a `"` anywhere else in an unquoted field, or
 *   anything but the delimiter, a line break or the end of the input after a closing quote, is an error;
 * - records end with the file's line break, taken from the first one outside quotes (`\r\n`, `\n` or a lone `\r`,
 *   as csv-parse discovers it); other line-break characters are data;
 * - empty lines are skipped; every record must have as many fields as the first one (the header).
 *
 * Text may be split anywhere between `write` calls (the parser keeps at most two characters back to look ahead).
 * {@link createCsvByteParser} adds the decoding (UTF-8, or UTF-16 when a BOM says so; BOM stripped) and chooses the
 * delimiter from the header line. Pure: no I/O.
 */

/** Why the input is not valid CSV. Lines are 1-based physical lines (counted by the file's line-break character). */
export type CsvProblem =
  /** A record with another number of fields than the first record; `line` is where the record starts. */
  | { readonly kind: 'ragged-row'; readonly line: number; readonly fields: number; readonly expected: number }
  /** A `"` inside an unquoted field; `line` is where that quote is. */
  | { readonly kind: 'quote-in-unquoted-field'; readonly line: number }
  /** Something other than `,`, a line break or the end after a closing quote; `line` is where that quote is. */
  | { readonly kind: 'text-after-closing-quote'; readonly line: number }
  /** The input ends inside a quoted field; `line` is where the field's opening quote is. */
  | { readonly kind: 'unclosed-quote'; readonly line: number };

export interface CsvParser {
  /**
   * Parses the next piece of text and appends every record it completes to `records`. Returns the first problem
   * found (records before it are appended; nothing after it is parsed, and every later call returns it again).
   */
  write(text: string, records: string[][]): CsvProblem | undefined;
  /** Ends the input: completes the last record (with or without a final line break), or reports an open quote. */
  end(records: string[][]): CsvProblem | undefined;
  /** The 1-based physical line the parser has reached. */
  line(): number;
}

const COMMA = 44;
const TAB = 9;
const QUOTE = 34;
const LF = 10;
const CR = 13;

/** Record delimiter, unknown until the first line break outside quotes. */
const RD_UNKNOWN = 0;
const RD_LF = 1;
const RD_CRLF = 2;
const RD_CR = 3;

/** Where the parser stands between two pieces of text. */
const AT_FIELD_START = 0;
const IN_UNQUOTED = 1;
const IN_QUOTED = 2;

/** The field separators read: `,` (CSV) and tab (Tableau's crosstab export). */
export type CsvDelimiter = ',' | '\t';

export interface CsvParserOptions {
  /** Default `,`. */
  readonly delimiter?: CsvDelimiter;
}

/** Creates a parser; one per input. Its length is that of `parse`, the hot loop (see the comment there). */
export function createCsvParser(options: CsvParserOptions = {}): CsvParser {
  const delimiter = options.delimiter === '\t' ? TAB : COMMA;
  // Characters above both the delimiter and the quote are never special: one comparison for most characters.
  const specialMax = delimiter > QUOTE ? delimiter : QUOTE;
  let rd = RD_UNKNOWN;
  // The character that counts lines: LF, or CR in files whose records end with a lone CR.
  let lineChar = LF;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  let state = AT_FIELD_START;
  // Text of the current field read so far, when it spans pieces (or holds an escaped quote).
  let partial = '';
  // Characters kept back from the previous piece because deciding what they mean needs the next character.
  let carry = '';
  let record: string[] = [];
  let expected = -1;
  let problem: CsvProblem | undefined;

  /** Completes the current record; returns a problem if its field count differs from the first record's. */
  function emit(records: string[][]): CsvProblem | undefined {
    const fields = record.length;
    if (expected < 0) expected = fields;
    else if (fields !== expected) return { kind: 'ragged-row', line: recordLine, fields, expected };
    records.push(record);
    record = [];
    return undefined;
  }

  // Hot loop, one function on purpose: every character of every export passes through its locals (`buf`, `n`, `pos`).
  // Splitting it (the field scanners, or even only the end-of-input handling, into functions of their own) measured
  // 5-15% slower on a 1M-row CSV, so it stays whole.
  function parse(input: string, final: boolean, records: string[][]): CsvProblem | undefined {
    if (problem !== undefined) return problem;
    const buf = carry === '' ? input : carry + input;
    carry = '';
    const n = buf.length;
    let pos = 0;

    main: for (;;) {
      if (state === AT_FIELD_START) {
        if (pos >= n) break;
        if (record.length === 0) recordLine = line;
        if (buf.charCodeAt(pos) === QUOTE) {
          state = IN_QUOTED;
          quoteLine = line;
          pos += 1;
        } else {
          state = IN_UNQUOTED;
        }
        partial = '';
      }

      if (state === IN_UNQUOTED) {
        const start = pos;
        for (;;) {
          let c = 0;
          for (; pos < n; pos += 1) {
            c = buf.charCodeAt(pos);
            if (c > specialMax) continue;
            if (c === delimiter || c === QUOTE) break;
            if (c === LF) {
              if (rd === RD_LF || rd === RD_UNKNOWN) break;
              if (lineChar === LF) line += 1;
            } else if (c === CR && rd !== RD_LF) {
              break;
            }
          }
          if (pos >= n) {
            partial += buf.slice(start, n);
            break main;
          }
          if (c === delimiter) {
            record.push(partial + buf.slice(start, pos));
            pos += 1;
            state = AT_FIELD_START;
            continue main;
          }
          if (c === QUOTE) {
            problem = { kind: 'quote-in-unquoted-field', line };
            return problem;
          }
          let rdLength = 1;
          if (c === CR && rd !== RD_CR) {
            // CRLF or not yet known: a CR ends the record only as part of CRLF (or as the first line break seen).
            if (pos + 1 >= n && !final) {
              partial += buf.slice(start, pos);
              carry = buf.slice(pos);
              break main;
            }
            if (pos + 1 < n && buf.charCodeAt(pos + 1) === LF) {
              rd = RD_CRLF;
              rdLength = 2;
            } else if (rd === RD_UNKNOWN) {
              rd = RD_CR;
              lineChar = CR;
            } else {
              pos += 1; // a lone CR inside a CRLF file is data
              continue;
            }
          } else if (c === LF) {
            rd = RD_LF;
          }
          const field = partial + buf.slice(start, pos);
          pos += rdLength;
          line += 1;
          state = AT_FIELD_START;
          // An empty line is skipped, not a record of one empty field (csv-parse's skip_empty_lines).
          if (record.length === 0 && field === '') continue main;
          record.push(field);
          const ragged = emit(records);
          if (ragged !== undefined) {
            problem = ragged;
            return problem;
          }
          continue main;
        }
      }

      // IN_QUOTED
      let segment = pos;
      for (;;) {
        for (; pos < n; pos += 1) {
          const c = buf.charCodeAt(pos);
          if (c === QUOTE) break;
          if (c === lineChar) line += 1;
        }
        if (pos >= n) {
          partial += buf.slice(segment, n);
          break main;
        }
        if (pos + 1 >= n) {
          if (!final) {
            partial += buf.slice(segment, pos);
            carry = buf.slice(pos);
            break main;
          }
          // The closing quote is the last character of the input.
          record.push(partial + buf.slice(segment, pos));
          pos += 1;
          state = AT_FIELD_START;
          const ragged = emit(records);
          if (ragged !== undefined) {
            problem = ragged;
            return problem;
          }
          continue main;
        }
        const next = buf.charCodeAt(pos + 1);
        if (next === QUOTE) {
          partial += buf.slice(segment, pos + 1);
          pos += 2;
          segment = pos;
          continue;
        }
        if (next === delimiter) {
          record.push(partial + buf.slice(segment, pos));
          pos += 2;
          state = AT_FIELD_START;
          continue main;
        }
        let rdLength = 0;
        if (next === LF) {
          if (rd === RD_UNKNOWN) rd = RD_LF;
          if (rd === RD_LF) rdLength = 1;
        } else if (next === CR) {
          if (rd === RD_CR) {
            rdLength = 1;
          } else if (rd !== RD_LF) {
            if (pos + 2 >= n && !final) {
              partial += buf.slice(segment, pos);
              carry = buf.slice(pos);
              break main;
            }
            if (pos + 2 < n && buf.charCodeAt(pos + 2) === LF) {
              rd = RD_CRLF;
              rdLength = 2;
            } else if (rd === RD_UNKNOWN) {
              rd = RD_CR;
              lineChar = CR;
              rdLength = 1;
            }
          }
        }
        if (rdLength === 0) {
          problem = { kind: 'text-after-closing-quote', line };
          return problem;
        }
        record.push(partial + buf.slice(segment, pos));
        pos += 1 + rdLength;
        line += 1;
        state = AT_FIELD_START;
        const ragged = emit(records);
        if (ragged !== undefined) {
          problem = ragged;
          return problem;
        }
        continue main;
      }
    }

    if (!final) return undefined;
    if (state === IN_QUOTED) {
      problem = { kind: 'unclosed-quote', line: quoteLine };
      return problem;
    }
    if (state === IN_UNQUOTED) {
      // The last record has no line break after it.
      if (record.length > 0 || partial !== '') {
        record.push(partial);
        partial = '';
        state = AT_FIELD_START;
        const ragged = emit(records);
        if (ragged !== undefined) problem = ragged;
      }
    } else if (record.length > 0) {
      // The input ends right after a comma: the last field is empty.
      record.push('');
      const ragged = emit(records);
      if (ragged !== undefined) problem = ragged;
    }
    return problem;
  }

  return {
    write: (text, records) => parse(text, false, records),
    end: (records) => parse('', true, records),
    line: () => line,
  };
}

export interface CsvByteParser {
  /** Decodes and parses the next bytes (split anywhere, even inside a character); see {@link CsvParser.write}. */
  write(bytes: Uint8Array, records: string[][]): CsvProblem | undefined;
  /** Ends the input; see {@link CsvParser.end}. */
  end(records: string[][]): CsvProblem | undefined;
  /** What the input turned out to be, once known (after the BOM and the header line). */
  format(): CsvFormat | undefined;
  /** Invalid UTF-8 found so far (each became U+FFFD), or undefined when none. */
  invalidText(): InvalidTextReport | undefined;
}

/** The text encoding (from the BOM; UTF-8 without one) and the field separator (from the header line). */
export interface CsvFormat {
  readonly encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
  readonly bom: boolean;
  readonly delimiter: CsvDelimiter;
}

/** Where the bytes that are not UTF-8 are: how many invalid sequences, and the first one's line and byte offset. */
export interface InvalidTextReport {
  readonly count: number;
  /** 1-based physical line of the first invalid sequence. */
  readonly firstLine: number;
  /** 0-based byte offset of the first invalid sequence in the input. */
  readonly firstByte: number;
}

const BOM_SNIFF_BYTES = 3;
/** The header line decides the delimiter; a header longer than this is decided on its first part. */
const HEADER_SNIFF_CHARS = 64 * 1024;
const REPLACEMENT = '\uFFFD';

/**
 * Creates a parser of CSV bytes. The encoding comes from the BOM: UTF-8 (with or without its BOM), UTF-16LE
 * (`FF FE`, Tableau's crosstab export) or UTF-16BE (`FE FF`); the BOM is looked for once three bytes are in (or at
 * the end), as csv-parse did. The delimiter is a tab when the header line has a tab outside double quotes,
 * else a comma. Invalid UTF-8 becomes U+FFFD and is reported by {@link CsvByteParser.invalidText};
 * it is looked for only in the rare pieces whose text holds a U+FFFD, so valid input pays one native `includes`
 * per piece.
 */
export function createCsvByteParser(): CsvByteParser {
  let parser: CsvParser | undefined;
  let decoder: TextDecoder | undefined;
  let encoding: CsvFormat['encoding'] = 'utf-8';
  let bom = false;
  let head: Uint8Array | undefined;
  let pendingText = '';
  let delimiter: CsvDelimiter | undefined;
  // Input bytes before the current piece, and the last bytes of the previous piece (a sequence it cut).
  let offset = 0;
  let tail: Uint8Array = new Uint8Array(0);
  let invalidCount = 0;
  let first: { line: number; byte: number } | undefined;

  function start(bytes: Uint8Array): Uint8Array {
    if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) encoding = 'utf-16le';
    else if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) encoding = 'utf-16be';
    bom = encoding !== 'utf-8' || (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf);
    // Each decoder strips its own BOM at the start of the stream (ignoreBOM: false), and only there.
    decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: false });
    return bytes;
  }

  function startParser(headerText: string): CsvParser {
    delimiter = detectDelimiter(headerText);
    return createCsvParser({ delimiter });
  }

  /** Parses decoded text; holds it back until the header line is in, to choose the delimiter. */
  function feed(text: string, records: string[][]): CsvProblem | undefined {
    if (parser !== undefined) return parser.write(text, records);
    pendingText += text;
    const lineEnd = pendingText.search(/[\r\n]/);
    if (lineEnd < 0 && pendingText.length < HEADER_SNIFF_CHARS) return undefined;
    parser = startParser(lineEnd < 0 ? pendingText : pendingText.slice(0, lineEnd));
    const all = pendingText;
    pendingText = '';
    return parser.write(all, records);
  }

  function decode(bytes: Uint8Array, records: string[][]): CsvProblem | undefined {
    const text = (decoder as TextDecoder).decode(bytes, { stream: true });
    if (encoding === 'utf-8' && text.includes(REPLACEMENT)) noteInvalid(bytes, text);
    offset += bytes.length;
    // A copy: the caller reuses its read buffer.
    if (encoding === 'utf-8') tail = bytes.length >= 3 ? bytes.slice(-3) : concatBytes(tail, bytes).slice(-3);
    return feed(text, records);
  }

  /** Counts the U+FFFD that stand for invalid bytes (not the ones written as such), and locates the first. */
  function noteInvalid(bytes: Uint8Array, text: string): void {
    // With the previous piece's last bytes: a character the cut split is decoded (and counted) in this piece.
    const withTail = concatBytes(tail, bytes);
    const found = countOf(text, REPLACEMENT) - countEncodedReplacements(withTail, tail.length);
    if (found <= 0) return;
    invalidCount += found;
    if (first !== undefined) return;
    const at = firstInvalidUtf8(withTail, incompleteStart(tail));
    const inPiece = Math.max(0, (at < 0 ? withTail.length : at) - tail.length);
    const linesBefore = parser?.line() ?? 1 + countByte(pendingText, 0x0a);
    first = {
      line: linesBefore + countLineFeeds(bytes, inPiece),
      byte: offset + inPiece - (at >= 0 && at < tail.length ? tail.length - at : 0),
    };
  }

  return {
    write(bytes, records) {
      if (decoder === undefined) {
        const firstBytes = head === undefined ? bytes : concatBytes(head, bytes);
        if (firstBytes.length < BOM_SNIFF_BYTES) {
          head = firstBytes;
          return undefined;
        }
        head = undefined;
        return decode(start(firstBytes), records);
      }
      return decode(bytes, records);
    },
    end(records) {
      if (decoder === undefined) {
        const firstBytes = head ?? new Uint8Array(0);
        head = undefined;
        const problem = decode(start(firstBytes), records);
        if (problem !== undefined) return problem;
      }
      const rest = (decoder as TextDecoder).decode();
      if (encoding === 'utf-8' && rest.includes(REPLACEMENT)) {
        // A sequence cut off by the end of the input.
        invalidCount += 1;
        first ??= {
          line: parser?.line() ?? 1 + countByte(pendingText, 0x0a),
          byte: offset - (tail.length - incompleteStart(tail)),
        };
      }
      const problem = feed(rest, records);
      if (problem !== undefined) return problem;
      if (parser === undefined) {
        parser = startParser(pendingText);
        const all = pendingText;
        pendingText = '';
        const p = parser.write(all, records);
        if (p !== undefined) return p;
      }
      return parser.end(records);
    },
    format: () => (delimiter === undefined ? undefined : { encoding, bom, delimiter }),
    invalidText: () =>
      invalidCount === 0 || first === undefined
        ? undefined
        : { count: invalidCount, firstLine: first.line, firstByte: first.byte },
  };
}

/**
 * Tab when the header line has a tab outside double quotes, else comma: a comma CSV never has a bare tab in a
 * column name, while a tab-separated crosstab often has commas in them ("Sales, Total").
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  let quoted = false;
  for (let i = 0; i < headerLine.length; i++) {
    const c = headerLine.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && c === TAB) return '\t';
  }
  return ',';
}

function countOf(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) n += 1;
  return n;
}

function countByte(text: string, code: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === code) n += 1;
  return n;
}

function countLineFeeds(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) n += 1;
  return n;
}

/** `EF BF BD` ending at or after `from`: a U+FFFD the file itself holds (valid UTF-8, not a decoding error). */
function countEncodedReplacements(bytes: Uint8Array, from: number): number {
  let n = 0;
  for (let i = bytes.indexOf(0xef); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1))
    if (i + 2 >= from && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) n += 1;
  return n;
}

/** Index in `tail` (the previous piece's last bytes) where a sequence the piece boundary cut begins, else its length. */
function incompleteStart(tail: Uint8Array): number {
  for (let i = tail.length - 1; i >= 0; i--) {
    const b = tail[i] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: its lead is further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return tail.length - i < need ? i : tail.length;
  }
  return tail.length;
}

/** Index of the first byte from `from` that starts an invalid UTF-8 sequence; -1 when there is none (a sequence cut by the end is not). */
export function firstInvalidUtf8(bytes: Uint8Array, from = 0): number {
  let i = from;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    // The second byte's range excludes overlong forms and surrogates.
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return -1;
      if (k === 1 ? c < lo || c > hi : (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
