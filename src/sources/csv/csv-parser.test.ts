import { parse as csvParseSync } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createCsvByteParser, createCsvParser, type CsvProblem } from './csv-parser.js';

type Outcome = { records: string[][] } | { problem: CsvProblem['kind']; line: number };

/** Parses `text` written in pieces cut at `cuts` (character offsets). */
function parseText(text: string, cuts: readonly number[] = []): Outcome {
  const parser = createCsvParser();
  const records: string[][] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    const problem = parser.write(text.slice(from, cut), records);
    if (problem !== undefined) return { problem: problem.kind, line: problem.line };
    from = cut;
  }
  const problem = parser.end(records);
  return problem === undefined ? { records } : { problem: problem.kind, line: problem.line };
}

/** Parses `bytes` written in pieces cut at `cuts` (byte offsets), decoding as the file reader does. */
function parseBytes(bytes: Uint8Array, cuts: readonly number[] = []): Outcome {
  const parser = createCsvByteParser();
  const records: string[][] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const problem = parser.write(bytes.subarray(from, cut), records);
    if (problem !== undefined) return { problem: problem.kind, line: problem.line };
    from = cut;
  }
  const problem = parser.end(records);
  return problem === undefined ? { records } : { problem: problem.kind, line: problem.line };
}

const CSV_PARSE_KINDS: Readonly<Record<string, CsvProblem['kind']>> = {
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'ragged-row',
  INVALID_OPENING_QUOTE: 'quote-in-unquoted-field',
  CSV_INVALID_CLOSING_QUOTE: 'text-after-closing-quote',
  CSV_QUOTE_NOT_CLOSED: 'unclosed-quote',
};

/** The reference: csv-parse with the options the reader used before (BOM, skip empty lines, strict otherwise). */
function referenceParse(bytes: Uint8Array): { records: string[][] } | { problem: CsvProblem['kind'] } {
  try {
    return { records: csvParseSync(Buffer.from(bytes), { bom: true, skip_empty_lines: true }) as string[][] };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const kind = typeof code === 'string' ? CSV_PARSE_KINDS[code] : undefined;
    if (kind === undefined) throw err;
    return { problem: kind };
  }
}

function withoutLine(outcome: Outcome): { records: string[][] } | { problem: CsvProblem['kind'] } {
  return 'records' in outcome ? outcome : { problem: outcome.problem };
}

/** Small deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces fields are made of: the characters CSV cares about, multi-byte UTF-8 (2, 3 and 4 bytes) and plain text.
const FIELD_PIECES = ['a', 'Z', '7', ' ', ',', '"', '""', '\r', '\n', '\r\n', 'é', '東', '😀', '$1,234', '14.4%', ''];
const LINE_ENDINGS = ['\r\n', '\n', '\r'];
// Damage applied to a well-formed document, to reach every error and every odd line-ending discovery.
const DAMAGE = ['"', '\r', '\n', ',', 'x', '""', '\r\n'];
const utf8 = new TextEncoder();

function generateCsv(random: () => number): Uint8Array {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const columns = 1 + Math.floor(random() * 4);
  const rows = Math.floor(random() * 6);
  const eol = pick(LINE_ENDINGS);
  const lines: string[] = [];
  for (let r = 0; r <= rows; r += 1) {
    // Sometimes a ragged row or a blank line.
    if (random() < 0.08) {
      lines.push('');
      continue;
    }
    const width = random() < 0.08 ? Math.max(1, columns + (random() < 0.5 ? -1 : 1)) : columns;
    const fields: string[] = [];
    for (let c = 0; c < width; c += 1) {
      let value = '';
      const pieces = Math.floor(random() * 4);
      for (let p = 0; p < pieces; p += 1) value += pick(FIELD_PIECES);
      const special = /[",\r\n]/.test(value);
      // Quote when needed (always, but now and then not, which is malformed), and sometimes when not needed.
      const quoted = special ? random() < 0.93 : random() < 0.2;
      fields.push(quoted ? `"${value.replaceAll('"', '""')}"` : value);
    }
    lines.push(fields.join(','));
  }
  let text = lines.join(eol) + (random() < 0.6 ? eol : '');
  const damages = random() < 0.3 ? 1 + Math.floor(random() * 2) : 0;
  for (let d = 0; d < damages; d += 1) {
    const at = Math.floor(random() * (text.length + 1));
    text = random() < 0.8 ? text.slice(0, at) + pick(DAMAGE) + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
  }
  if (random() < 0.1) text = `\ufeff${text}`;
  let bytes = utf8.encode(text);
  if (random() < 0.05) {
    // Invalid UTF-8: a lone continuation byte, a truncated sequence, a byte that never appears in UTF-8.
    const at = Math.floor(random() * (bytes.length + 1));
    const bad = pick([[0x80], [0xe6, 0x9d], [0xff], [0xc3]]);
    bytes = Uint8Array.from([...bytes.subarray(0, at), ...bad, ...bytes.subarray(at)]);
  }
  return bytes;
}

describe('createCsvParser', () => {
  it('reads quoted commas, doubled quotes and line breaks in quotes, with or without a final line break', () => {
    expect(parseText('a,b,c\r\n"x, y","say ""hi""","l1\r\nl2"\r\n,,\r\n1,"",3')).toEqual({
      records: [
        ['a', 'b', 'c'],
        ['x, y', 'say "hi"', 'l1\r\nl2'],
        ['', '', ''],
        ['1', '', '3'],
      ],
    });
  });

  it.each([
    [
      'CRLF',
      'a,b\r\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'LF',
      'a,b\n1,2\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'a lone CR (old Mac files)',
      'a,b\r1,2\r',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'a lone CR in a CRLF file is data',
      'a,b\r\n1,2\r3\r\n',
      [
        ['a', 'b'],
        ['1', '2\r3'],
      ],
    ],
    [
      'a CR in an LF file is data',
      'a,b\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2\r'],
      ],
    ],
    ['blank lines are skipped', '\r\na\r\n\r\n1\r\n\r\n', [['a'], ['1']]],
    ['an empty quoted field is a record', 'a\r\n""\r\n', [['a'], ['']]],
    [
      'a trailing comma is an empty last field',
      'a,b\r\n1,',
      [
        ['a', 'b'],
        ['1', ''],
      ],
    ],
    ['a closing quote at the very end', 'a\r\n"1"', [['a'], ['1']]],
  ])('reads %s', (_name, text, records) => {
    expect(parseText(text)).toEqual({ records });
  });

  it.each([
    ['a row with too many fields (line where it starts)', 'a,b\r\n1,2\r\n1,2,3\r\n', 'ragged-row', 3],
    ['a ragged row after a multi-line field', 'a,b,c\n"x\ny",1,2\n3\n', 'ragged-row', 4],
    ['a ragged row that spans lines', 'a,b\r\n1,2\r\n"x\r\ny",2,3\r\n', 'ragged-row', 3],
    ['a ragged last row without a line break', 'a,b\n1', 'ragged-row', 2],
    ['a quote inside an unquoted field', 'a,b\r\n1,x"y"\r\n', 'quote-in-unquoted-field', 2],
    ['a space before an opening quote', 'a,b\r\n1, "2"\r\n', 'quote-in-unquoted-field', 2],
    ['text after a closing quote', 'a,b\r\n"p\r\nq","2"x\r\n', 'text-after-closing-quote', 3],
    ['a space after a closing quote', 'a,b\r\n1,"2" \r\n', 'text-after-closing-quote', 2],
    ['an LF after a closing quote in a CRLF file', 'a\r\n"1"\n', 'text-after-closing-quote', 2],
    ['a quote never closed (line where it opens)', 'a,b\r\n1,"open\r\n2,3\r\n', 'unclosed-quote', 2],
    ['a doubled quote that leaves the field open', 'a,b\r\n"1"",2\r\n', 'unclosed-quote', 2],
  ])('reports %s', (_name, text, kind, line) => {
    expect(parseText(text)).toEqual({ problem: kind, line });
  });

  it('reports the header and field counts of a ragged row, and stops at the first problem', () => {
    const parser = createCsvParser();
    const records: string[][] = [];
    const problem = parser.write('a,b\n1,2\n3\n4,"5\n', records);
    expect(problem).toEqual({ kind: 'ragged-row', line: 3, fields: 1, expected: 2 });
    expect(records).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parser.write('6,7\n', records)).toBe(problem);
    expect(parser.end(records)).toBe(problem);
    expect(records).toHaveLength(2);
  });

  it('counts lines by CR in a file whose records end with a lone CR', () => {
    expect(parseText('a\r1\r"x\ry"\rz"q"\r')).toEqual({ problem: 'quote-in-unquoted-field', line: 5 });
  });

  it('gives the same result wherever the text is cut, at every offset and in one-character pieces', () => {
    const texts = [
      'a,"b ""c"", d"\r\n"l1\r\nl2",東😀\r\n\r\n"",x\r\n"q"\r\n',
      'a,b\r1,"2\r"\r"3""",4',
      'a,b\n"x"\r\n',
      'a,b\r\n1,"2"\r',
      'id\r\n"unclosed\r\n',
    ];
    for (const text of texts) {
      const whole = parseText(text);
      for (let cut = 0; cut <= text.length; cut += 1)
        expect(parseText(text, [cut]), `${JSON.stringify(text)} cut at ${cut}`).toEqual(whole);
      expect(
        parseText(
          text,
          Array.from({ length: text.length }, (_, i) => i),
        ),
      ).toEqual(whole);
    }
  });
});

describe('createCsvByteParser', () => {
  it('strips a UTF-8 BOM and decodes characters split across pieces', () => {
    const bytes = utf8.encode('\ufeffNom,Ville\r\nSociété,東京😀\r\n');
    const whole = parseBytes(bytes);
    expect(whole).toEqual({
      records: [
        ['Nom', 'Ville'],
        ['Société', '東京😀'],
      ],
    });
    for (let cut = 0; cut <= bytes.length; cut += 1) expect(parseBytes(bytes, [cut])).toEqual(whole);
    expect(
      parseBytes(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toEqual(whole);
  });

  it('keeps a BOM that is not at the start, as csv-parse does, wherever the bytes are cut', () => {
    const bytes = utf8.encode('a\r\n\ufeffb\r\nc\r\n');
    const expected = { records: [['a'], ['\ufeffb'], ['c']] };
    expect(parseBytes(bytes)).toEqual(expected);
    for (let cut = 0; cut <= bytes.length; cut += 1)
      expect(parseBytes(bytes, [cut]), `cut at ${cut}`).toEqual(expected);
    expect(parseBytes(bytes, [1, 2, 3, 6, 8])).toEqual(expected);
  });

  it('reads a UTF-16LE file with its BOM the way csv-parse does', () => {
    const text = 'Name,Note\r\n"Smith, Jones",東京\r\n';
    const bytes = Uint8Array.from([0xff, 0xfe, ...Buffer.from(text, 'utf16le')]);
    expect(parseBytes(bytes)).toEqual(referenceParse(bytes));
    expect(parseBytes(bytes, [1, 2, 3, 7])).toEqual(referenceParse(bytes));
  });

  it('matches csv-parse on 3,000 random documents, whole and cut into pieces', () => {
    for (let seed = 1; seed <= 3_000; seed += 1) {
      const random = createRandom(seed);
      const bytes = generateCsv(random);
      const expected = referenceParse(bytes);
      const label = `seed ${seed}: ${JSON.stringify(Buffer.from(bytes).toString('latin1'))}`;
      expect(withoutLine(parseBytes(bytes)), label).toEqual(expected);
      // Cut at every offset for small documents, at a few random ones for the rest.
      if (bytes.length <= 48) {
        for (let cut = 0; cut <= bytes.length; cut += 1)
          expect(withoutLine(parseBytes(bytes, [cut])), `${label} cut at ${cut}`).toEqual(expected);
      } else {
        const cuts = Array.from({ length: 4 }, () => Math.floor(random() * (bytes.length + 1))).sort((x, y) => x - y);
        expect(withoutLine(parseBytes(bytes, cuts)), `${label} cut at ${cuts.join(',')}`).toEqual(expected);
      }
      expect(
        withoutLine(
          parseBytes(
            bytes,
            Array.from({ length: bytes.length }, (_, i) => i),
          ),
        ),
        `${label} byte by byte`,
      ).toEqual(expected);
    }
  });
});

describe('createCsvByteParser: encodings and delimiters', () => {
  /** Parses `bytes` in pieces cut at `cuts` and returns the records with what the parser found out. */
  function read(bytes: Uint8Array, cuts: readonly number[] = []) {
    const parser = createCsvByteParser();
    const records: string[][] = [];
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      expect(parser.write(bytes.subarray(from, cut), records)).toBeUndefined();
      from = cut;
    }
    expect(parser.end(records)).toBeUndefined();
    return { records, format: parser.format(), invalid: parser.invalidText() };
  }
  const everyCut = (bytes: Uint8Array): number[][] => [
    ...Array.from({ length: bytes.length + 1 }, (_, i) => [i]),
    Array.from({ length: bytes.length }, (_, i) => i),
  ];

  // Tableau's "Crosstab" download: UTF-16LE with a BOM, tab-separated, CRLF.
  const crosstab = 'Region\tSales, Total\tNote\r\nEMEA\t"1,234"\t"tab\tinside"\r\nNA\t5\tÉté 東京\r\n';
  const crosstabRecords = [
    ['Region', 'Sales, Total', 'Note'],
    ['EMEA', '1,234', 'tab\tinside'],
    ['NA', '5', 'Été 東京'],
  ];

  it('reads a UTF-16LE tab-separated crosstab into its columns, wherever the bytes are cut', () => {
    const bytes = Uint8Array.from([0xff, 0xfe, ...Buffer.from(crosstab, 'utf16le')]);
    const whole = read(bytes);
    expect(whole).toEqual({
      records: crosstabRecords,
      format: { encoding: 'utf-16le', bom: true, delimiter: '\t' },
      invalid: undefined,
    });
    for (const cuts of everyCut(bytes))
      expect(read(bytes, cuts).records, `cut at ${cuts.join(',')}`).toEqual(crosstabRecords);
  });

  it('reads UTF-16BE with its BOM, and a tab-separated UTF-8 file with or without a BOM', () => {
    const be = Buffer.from(crosstab, 'utf16le').swap16();
    expect(read(Uint8Array.from([0xfe, 0xff, ...be]))).toMatchObject({
      records: crosstabRecords,
      format: { encoding: 'utf-16be', bom: true, delimiter: '\t' },
    });
    expect(read(utf8.encode(`\ufeff${crosstab}`))).toMatchObject({
      records: crosstabRecords,
      format: { encoding: 'utf-8', bom: true, delimiter: '\t' },
    });
    expect(read(utf8.encode(crosstab))).toMatchObject({
      records: crosstabRecords,
      format: { encoding: 'utf-8', bom: false, delimiter: '\t' },
    });
  });

  it('gives the same records as csv-parse with a tab delimiter', () => {
    const text = 'a\tb\tc\n"x\ty"\t"q""uote"\t\n\t\tz\n';
    const expected = csvParseSync(text, { delimiter: '\t', skip_empty_lines: true }) as string[][];
    expect(read(utf8.encode(text)).records).toEqual(expected);
  });

  it.each([
    ['commas only', 'a,b,c', ','],
    ['tabs only', 'a\tb\tc', '\t'],
    ['a tab inside quotes of a comma header', '"a\tb",c', ','],
    ['commas inside the names of a tab header', 'Sales, Total\tProfit, Net\tRegion', '\t'],
    ['one tab among commas', 'a,b\tc', '\t'],
    ['one column', 'Region', ','],
  ])('chooses the delimiter from the header line: %s', (_what, header, delimiter) => {
    expect(read(utf8.encode(`${header}\r\n`)).format?.delimiter).toBe(delimiter);
  });

  it('keeps a comma file with tabs in its data rows comma-separated', () => {
    expect(read(utf8.encode('a,b\n1\t2,3\n')).records).toEqual([
      ['a', 'b'],
      ['1\t2', '3'],
    ]);
  });

  it('counts and locates invalid UTF-8, whatever the cuts, and not a U+FFFD the file itself holds', () => {
    const bytes = Uint8Array.from([
      ...utf8.encode('name,note\nok,\uFFFD real\nbad,'), // line 3 starts at byte 22
      0xe9, // a Latin-1 é: invalid at byte 26
      ...utf8.encode('t\xe9\n'),
      0xc3, // a lead byte followed by a comma: invalid at byte 31
      ...utf8.encode(',z\n'),
      ...utf8.encode('x,y\n'),
    ]);
    expect(bytes[26]).toBe(0xe9);
    const whole = read(bytes);
    expect(whole.records[2]).toEqual(['bad', '\uFFFDté']);
    expect(whole.records[1]).toEqual(['ok', '\uFFFD real']);
    expect(whole.records[3]).toEqual(['\uFFFD', 'z']);
    expect(whole.invalid).toEqual({ count: 2, firstLine: 3, firstByte: 26 });
    for (const cuts of everyCut(bytes))
      expect(read(bytes, cuts).invalid, `cut at ${cuts.join(',')}`).toEqual(whole.invalid);
  });

  it('reports a sequence cut off by the end of the input, and nothing for valid text', () => {
    const bytes = Uint8Array.from([...utf8.encode('a\nb\n'), 0xe6, 0x9d]);
    expect(read(bytes).invalid).toEqual({ count: 1, firstLine: 3, firstByte: 4 });
    expect(read(utf8.encode('a\n東京\n')).invalid).toBeUndefined();
  });
});
