/**
 * A seeded, realistic sales pipeline rendered the way Tableau's `/views/{id}/data` endpoint renders it: display
 * formatted values (`$45,047`, `40%`, `11/27/2026`, `True`) in a UTF-8 CSV with CRLF line endings and no BOM.
 *
 * Used by the Tableau simulator, the demo and the benchmarks. Everything is a pure function of `seed`, `count` and
 * `asOf`, so a test can assert exact values and a 1M-row file can be regenerated instead of stored.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const PIPELINE_HEADER: readonly string[] = [
  'Opportunity ID',
  'Account',
  'Owner',
  'Region',
  'Product',
  'Type',
  'Lead Source',
  'Stage',
  'Amount',
  'Probability',
  'Created Date',
  'Close Date',
  'Stage Entered Date',
  'Is Won',
  'Is Closed',
];

/**
 * Open stages in funnel order, then the two terminal stages.
 *
 * Mirrors `DEFAULT_STAGES` of `src/transforms/metrics/config.ts` on purpose: the simulator plays an independent
 * Tableau server, so it keeps its own list instead of importing the metrics' (simulators/ may import only shared/).
 * `pipeline-stages.test.ts` keeps the two equal.
 */
export const PIPELINE_STAGES = [
  'Lead Generation',
  'Qualification',
  'Contact',
  'Proposal',
  'Closing',
  'Closed Won',
  'Closed Lost',
] as const;

export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface PipelineOptions {
  readonly seed: number;
  readonly count: number;
  /** The "today" of the data set: closed deals close on or before it, open deals were created before it. */
  readonly asOf: Date;
}

/** Win probability Tableau would show per stage (a typical CRM default). */
const STAGE_PROBABILITY: Readonly<Record<PipelineStage, string>> = {
  'Lead Generation': '10%',
  Qualification: '20%',
  Contact: '40%',
  Proposal: '60%',
  Closing: '80%',
  'Closed Won': '100%',
  'Closed Lost': '0%',
};

const OPEN_STAGES = PIPELINE_STAGES.slice(0, 5) as readonly PipelineStage[];

// Names exercise CSV quoting (commas, double quotes) and UTF-8 (accents, CJK) on purpose.
const ACCOUNTS: readonly string[] = [
  'Société Générale',
  'Smith, Jones & Co',
  'The "Best" Widgets',
  'Müller Maschinenbau GmbH',
  'Nordisk Fjörd AS',
  'São Paulo Logística',
  'Zürich Rückversicherung',
  'Café Olé, Inc.',
  '東京トレーディング株式会社',
  'Acme Corporation',
  'Globex Industries',
  'Initech',
  'Umbrella Health',
  'Stark Manufacturing',
  'Wayne Enterprises',
  'Wonka Confectionery',
  'Tyrell Systems',
  'Cyberdyne Robotics',
  'Soylent Foods',
  'Hooli',
  'Pied Piper',
  'Vandelay Industries',
  'Dunder Mifflin Paper',
  'Gringotts Financial',
  'Oceanic Airlines',
  'Massive Dynamic',
  'Aperture Science',
  'Black Mesa Research',
  'Blue Sun Corporation',
  'Monarch Solutions',
  'Northwind Traders',
  'Contoso Ltd',
  'Fabrikam, Inc.',
  'Adventure Works',
  'Tailspin Toys',
  'Wide World Importers',
  'Litware, Inc.',
  'Proseware',
  'Lucerne Publishing',
  "Margie's Travel",
  'Coho Winery',
  'Alpine Ski House',
  'Bellows College',
  'Fourth Coffee',
  'Trey Research',
  'Woodgrove Bank',
  'Électricité du Nord',
  'Banco Ñandú',
  'Kraków Software Sp. z o.o.',
  'Øresund Shipping',
  'Mumbai Textiles Pvt Ltd',
  'Sydney Harbour Partners',
  'Andes Minería S.A.',
  'Jakarta Digital',
  'Seoul Semiconductor Systems',
  'Lagos Fintech',
  'Cape Town Vineyards',
  'Montréal Médias',
  '"Quoted" Holdings, LLC',
  'Riverside Clinics',
];

interface Owner {
  readonly name: string;
  readonly region: string;
}

const OWNERS: readonly Owner[] = [
  { name: 'Amélie Laurent', region: 'EMEA' },
  { name: 'Jonas Becker', region: 'EMEA' },
  { name: 'Priya Shah', region: 'EMEA' },
  { name: "Mike O'Brien", region: 'NA' },
  { name: 'Sarah Chen', region: 'NA' },
  { name: 'David Miller', region: 'NA' },
  { name: 'Kenji Watanabe', region: 'APAC' },
  { name: 'Aisha Rahman', region: 'APAC' },
  { name: 'Liam Nguyen', region: 'APAC' },
  { name: 'Sofía Ramírez', region: 'LATAM' },
  { name: 'João Pereira', region: 'LATAM' },
  { name: 'Carlos Mendoza', region: 'LATAM' },
];

interface Product {
  readonly name: string;
  /** Median deal size in dollars. */
  readonly median: number;
}

const PRODUCTS: readonly Product[] = [
  { name: 'Analytics Cloud', median: 45_000 },
  { name: 'Data Platform', median: 120_000 },
  { name: 'Embedded BI', median: 30_000 },
  { name: 'Professional Services', median: 15_000 },
  { name: 'Support Plus', median: 8_000 },
];

const LEAD_SOURCES: readonly string[] = [
  'Web',
  'Partner Referral',
  'Trade Show',
  'Outbound',
  'Customer Referral',
  'Webinar',
];

const DAY_MS = 86_400_000;
/** How far back deals are created (about 18 months). */
const HISTORY_DAYS = 540;

/** mulberry32: tiny, fast, good enough for test data, and identical on every platform. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Standard normal via Box-Muller (one value per call keeps the random stream simple to reason about). */
function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Days since the epoch of the UTC calendar date of `date`. */
function toDayNumber(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS);
}

/** Tableau's default en-US date rendering: `M/D/YYYY`, no zero padding. */
function formatUsDate(day: number): string {
  const d = new Date(day * DAY_MS);
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
}

/** `$45,047`: Tableau's currency rendering with no decimals. */
function formatDollars(amount: number): string {
  return `$${Math.round(amount).toLocaleString('en-US')}`;
}

/**
 * Yields pipeline rows one at a time (display strings aligned with {@link PIPELINE_HEADER}), so a million rows never
 * sit in memory. Same seed, count and asOf give the same rows as {@link generatePipeline}.
 */
export function* generatePipelineRows(opts: PipelineOptions): Generator<string[], void, undefined> {
  const random = createRandom(opts.seed);
  const today = toDayNumber(opts.asOf);
  // A few big accounts carry many deals, as in real books of business.
  const accountWeightPower = 1.6;

  for (let i = 0; i < opts.count; i += 1) {
    const id = `OPP-${String(i + 1).padStart(6, '0')}`;
    const account =
      ACCOUNTS[Math.floor(Math.pow(random(), accountWeightPower) * ACCOUNTS.length)] ?? 'Acme Corporation';
    const owner = pick(random, OWNERS);
    const product = pick(random, PRODUCTS);
    const isExisting = random() < 0.4;
    const leadSource = isExisting && random() < 0.5 ? 'Customer Referral' : pick(random, LEAD_SOURCES);

    const sizeFactor = Math.exp(normal(random) * 0.6) * (isExisting ? 0.7 : 1);
    const amount = Math.max(500, Math.round(product.median * sizeFactor));

    // More recent deals are more common (density falls linearly with age).
    const ageDays = Math.floor(HISTORY_DAYS * (1 - Math.sqrt(random())));
    const created = today - ageDays;
    const cycleDays = Math.max(7, Math.round(20 + 75 * Math.exp(normal(random) * 0.5)));
    const dueDay = created + cycleDays;

    let stage: PipelineStage;
    let closeDay: number;
    let stageEnteredDay: number | undefined;
    const closeRoll = random();
    if (dueDay <= today && closeRoll < 0.85) {
      stage = random() < 0.42 ? 'Closed Won' : 'Closed Lost';
      closeDay = dueDay;
      stageEnteredDay = closeDay;
    } else {
      // Scaling by a uniform draw thins out later stages, so the open pipeline has a funnel shape.
      const progress = Math.min(0.999, (ageDays / cycleDays) * random() * 1.1);
      stage = OPEN_STAGES[Math.floor(progress * OPEN_STAGES.length)] ?? 'Lead Generation';
      if (dueDay > today) closeDay = dueDay;
      else if (random() < 0.3)
        closeDay = dueDay; // slipped deal: expected close already in the past
      else closeDay = today + 7 + Math.floor(random() * 84);
      const staleRoll = random();
      if (staleRoll < 0.15 && ageDays >= 60) {
        // Stale: entered its stage soon after creation and has not moved since.
        stageEnteredDay = created + Math.floor(random() * 10);
      } else {
        const earliest = Math.max(created, today - 45);
        stageEnteredDay = earliest + Math.floor(random() * (today - earliest + 1));
      }
    }
    // Some CRMs do not track stage history for every record: Tableau shows a blank.
    if (random() < 0.03) stageEnteredDay = undefined;

    const won = stage === 'Closed Won';
    const closed = won || stage === 'Closed Lost';
    yield [
      id,
      account,
      owner.name,
      owner.region,
      product.name,
      isExisting ? 'Existing Customer' : 'New Business',
      leadSource,
      stage,
      formatDollars(amount),
      STAGE_PROBABILITY[stage],
      formatUsDate(created),
      formatUsDate(closeDay),
      stageEnteredDay === undefined ? '' : formatUsDate(stageEnteredDay),
      won ? 'True' : 'False',
      closed ? 'True' : 'False',
    ];
  }
}

/** The whole pipeline in memory (header and rows of display strings). Use {@link generatePipelineRows} for big sets. */
export function generatePipeline(opts: PipelineOptions): { header: string[]; rows: string[][] } {
  return { header: [...PIPELINE_HEADER], rows: [...generatePipelineRows(opts)] };
}

function needsQuotes(field: string): boolean {
  for (let i = 0; i < field.length; i += 1) {
    const c = field.charCodeAt(i);
    if (c === 44 /* , */ || c === 34 /* " */ || c === 13 /* \r */ || c === 10 /* \n */) return true;
  }
  return false;
}

/**
 * One CSV line the way Tableau writes it: a field is quoted only when it contains a comma, a double quote, CR or LF,
 * and quotes inside are doubled. No line terminator.
 */
export function renderCsvLine(fields: readonly string[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i += 1) {
    const field = fields[i] ?? '';
    if (i > 0) line += ',';
    line += needsQuotes(field) ? `"${field.replaceAll('"', '""')}"` : field;
  }
  return line;
}

/** A whole CSV document as Tableau sends it: UTF-8 text, CRLF after every line (including the last), no BOM. */
export function toTableauCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [renderCsvLine(header)];
  for (const row of rows) lines.push(renderCsvLine(row));
  return `${lines.join('\r\n')}\r\n`;
}

/** Batches lines into ~64 KiB strings: one write per line would make a 1M-row file needlessly slow. */
function* csvChunks(header: readonly string[], rows: Iterable<readonly string[]>): Generator<string, void, undefined> {
  let chunk = `${renderCsvLine(header)}\r\n`;
  for (const row of rows) {
    chunk += `${renderCsvLine(row)}\r\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Writes a Tableau-style CSV file (see {@link toTableauCsv}), streaming with backpressure so `rows` can be a
 * generator of any length. Rejects on any file-system error (the partial file is left for the caller to remove).
 */
export async function writeTableauCsvFile(
  path: string,
  header: readonly string[],
  rows: Iterable<readonly string[]>,
): Promise<void> {
  await pipeline(
    Readable.from(csvChunks(header, rows), { objectMode: false, encoding: 'utf8' }),
    createWriteStream(path),
  );
}
