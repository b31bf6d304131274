/**
 * The bench's data sets, all seeded: the demo's Opportunities view in Tableau's display format (`pipeline`, 15
 * columns), the same repeated to 60 columns (`wide`), and the pipeline with two long free-text columns
 * (`text`: notes and next steps of 150–900 characters with commas, quotes, line breaks and non-ASCII letters).
 */
import {
  generatePipelineRows,
  PIPELINE_HEADER,
  writeTableauCsvFile,
} from '../src/simulators/demo-data/pipeline-generator.js';

export const BENCH_CASES = ['pipeline', 'wide', 'text'] as const;
export type BenchCase = (typeof BENCH_CASES)[number];

/** Rows of each case when `--rows` is not given. */
export const DEFAULT_CASE_ROWS: Readonly<Record<BenchCase, readonly number[]>> = {
  pipeline: [100_000, 1_000_000],
  wide: [200_000],
  text: [500_000],
};

export const CASE_LABELS: Readonly<Record<BenchCase, string>> = {
  pipeline: '15 columns',
  wide: '60 columns',
  text: '17 columns, 2 of long free text',
};

const WIDE_COPIES = 4;
const WORDS = [
  'customer',
  'asked',
  'for',
  'a',
  'revised',
  'quote',
  'after',
  'the',
  'demo,',
  'procurement',
  'wants',
  'the',
  '"enterprise"',
  'tier',
  'discount;',
  'follow',
  'up',
  'with',
  'legal',
  'about',
  'the',
  'DPA',
  'renewal',
  'café',
  'Müller',
  'naïve',
  'señor',
  '東京',
  'office',
  'budget',
  'approved',
  'Q3',
  '— next',
  'call',
  'scheduled',
  'on',
  'Tuesday.',
  'Champion',
  'left',
  'the',
  'company,',
  'new',
  'contact',
  'is',
  'the',
  'CFO',
  '(see',
  'notes)',
];

/** A small deterministic generator (mulberry32), so every run of the bench writes the same text. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function freeText(random: () => number, minChars: number, maxChars: number): string {
  const target = minChars + Math.floor(random() * (maxChars - minChars));
  let text = '';
  while (text.length < target) {
    text += `${WORDS[Math.floor(random() * WORDS.length)] ?? ''}`;
    text += random() < 0.03 ? '\n' : ' ';
  }
  return text.trim();
}

function* widen(rows: Iterable<readonly string[]>): Generator<string[]> {
  for (const row of rows) yield Array.from({ length: WIDE_COPIES }, () => row).flat();
}

function* withFreeText(rows: Iterable<readonly string[]>, seed: number): Generator<string[]> {
  const random = seededRandom(seed);
  for (const row of rows) yield [...row, freeText(random, 150, 900), freeText(random, 20, 200)];
}

/** Writes the CSV of `benchCase` with `rows` data rows to `path`. */
export async function writeCaseCsv(
  benchCase: BenchCase,
  rows: number,
  path: string,
  seed: number,
  asOf: Date,
): Promise<void> {
  const base = generatePipelineRows({ seed, count: rows, asOf });
  if (benchCase === 'pipeline') return writeTableauCsvFile(path, PIPELINE_HEADER, base);
  if (benchCase === 'wide') {
    const header = Array.from({ length: WIDE_COPIES }, (_, copy) =>
      PIPELINE_HEADER.map((name) => (copy === 0 ? name : `${name} ${copy + 1}`)),
    ).flat();
    return writeTableauCsvFile(path, header, widen(base));
  }
  return writeTableauCsvFile(path, [...PIPELINE_HEADER, 'Notes', 'Next Step'], withFreeText(base, seed));
}
