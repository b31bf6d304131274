/**
 * "Since the last refresh" across two nightly runs of the simulator's dataset, through the real CLI: night 1 is the
 * generated pipeline as of 26 Nov 2026; night 2 is the same deals with a hand-made set of changes (two new deals,
 * one won, one lost, two moved forward, one moved back, one amount raised, one cut, one deal gone from the view).
 * The Summary of night 2 must count exactly those changes; night 1 says there is no previous run yet.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import XLSX from 'xlsx';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generatePipeline,
  PIPELINE_HEADER,
  writeTableauCsvFile,
} from '../../src/simulators/demo-data/pipeline-generator.js';
import { runCli } from './helpers/cli.js';

const col = (name: string): number => PIPELINE_HEADER.indexOf(name);
const ID = col('Opportunity ID');
const STAGE = col('Stage');
const AMOUNT = col('Amount');
const WON = col('Is Won');
const CLOSED = col('Is Closed');
const money = (s: string): number => Number(s.replace(/[$,]/g, ''));
const dollars = (n: number): string => `$${n.toLocaleString('en-US')}`;

let dir: string;
let night1: string[][];
let summary1: unknown[][];
let summary2: unknown[][];
const picked: Record<string, string[]> = {};

function config(asOf: string, csv: string): string {
  return `stateDir: ./state
exports:
  - id: nightly
    timezone: Europe/Paris
    views: [{ file: ${csv}, sheet: Opportunities }]
    metrics: { from: Opportunities, asOf: ${asOf} }
    destination: { type: local, dir: ./out, fileName: nightly.xlsx }
`;
}

async function run(asOf: string, rows: string[][]): Promise<unknown[][]> {
  const csv = `opps-${asOf}.csv`;
  await writeTableauCsvFile(join(dir, csv), PIPELINE_HEADER, rows);
  await writeFile(join(dir, 'cfg.yaml'), config(asOf, csv));
  const res = await runCli(['run', 'nightly', '--config', join(dir, 'cfg.yaml')]);
  expect(res.code, res.stdout + res.stderr).toBe(0);
  const book = XLSX.read(await readFile(join(dir, 'out', 'nightly.xlsx')));
  return XLSX.utils.sheet_to_json<unknown[]>(book.Sheets['Summary']!, { header: 1, blankrows: true });
}

/** The first `n` deals of night 1 in `stage`, not already picked for another change. */
function pick(change: string, stage: string, n = 1): string[][] {
  const taken = new Set(Object.values(picked).flat());
  const rows = night1.filter((r) => r[STAGE] === stage && !taken.has(r[ID] ?? '')).slice(0, n);
  expect(rows).toHaveLength(n);
  picked[change] = rows.map((r) => r[ID] ?? '');
  return rows;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-since-'));
  night1 = generatePipeline({ seed: 11, count: 400, asOf: new Date(Date.UTC(2026, 10, 26)) }).rows;
  summary1 = await run('2026-11-26', night1);

  const won = pick('won', 'Closing');
  const lost = pick('lost', 'Proposal');
  const forward = [...pick('forwardLead', 'Lead Generation'), ...pick('forwardQualification', 'Qualification')];
  const backward = pick('backward', 'Proposal');
  const raised = pick('raised', 'Contact');
  const cut = pick('cut', 'Contact');
  const gone = pick('gone', 'Qualification');
  const edits = new Map<string, (r: string[]) => string[] | undefined>([
    [won[0]![ID]!, (r) => Object.assign([...r], { [STAGE]: 'Closed Won', [WON]: 'True', [CLOSED]: 'True' })],
    [lost[0]![ID]!, (r) => Object.assign([...r], { [STAGE]: 'Closed Lost', [CLOSED]: 'True' })],
    [forward[0]![ID]!, (r) => Object.assign([...r], { [STAGE]: 'Contact' })],
    [forward[1]![ID]!, (r) => Object.assign([...r], { [STAGE]: 'Proposal' })],
    [backward[0]![ID]!, (r) => Object.assign([...r], { [STAGE]: 'Qualification' })],
    [raised[0]![ID]!, (r) => Object.assign([...r], { [AMOUNT]: dollars(money(r[AMOUNT]!) + 2_000) })],
    [cut[0]![ID]!, (r) => Object.assign([...r], { [AMOUNT]: dollars(money(r[AMOUNT]!) - 1_000) })],
    [gone[0]![ID]!, () => undefined],
  ]);
  const template = night1[0]!;
  const newDeal = (id: string, stage: string, amount: number): string[] =>
    Object.assign([...template], {
      [ID]: id,
      [STAGE]: stage,
      [AMOUNT]: dollars(amount),
      [WON]: 'False',
      [CLOSED]: 'False',
    });
  const night2 = [
    ...night1.flatMap((r) => {
      const edit = edits.get(r[ID] ?? '');
      const edited = edit === undefined ? r : edit(r);
      return edited === undefined ? [] : [edited];
    }),
    newDeal('OPP-900001', 'Lead Generation', 10_000),
    newDeal('OPP-900002', 'Qualification', 5_000),
  ];
  summary2 = await run('2026-11-27', night2);
}, 240_000);

/** The rows of the "Since the last refresh" block: its header, then label → [deals, value]. */
function sinceBlock(summary: unknown[][]): { header: unknown[]; rows: Map<string, [unknown, unknown]> } {
  const start = summary.findIndex((r) => typeof r[0] === 'string' && r[0].startsWith('Since the last refresh'));
  expect(start).toBeGreaterThan(0);
  const rows = new Map<string, [unknown, unknown]>();
  for (const r of summary.slice(start + 1)) {
    if (r.length === 0 || r[0] === undefined) break;
    rows.set(r[0] as string, [r[1], r[2]]);
  }
  return { header: summary[start] ?? [], rows };
}

const amountOf = (id: string): number => money(night1.find((r) => r[ID] === id)?.[AMOUNT] ?? 'NaN');
const sum = (ids: readonly string[]): number => ids.reduce((total, id) => total + amountOf(id), 0);

describe('since the last refresh, two nightly runs', () => {
  it('says on the first night that there is no previous run yet', () => {
    const { header, rows } = sinceBlock(summary1);
    expect(header[0]).toBe('Since the last refresh');
    expect([...rows.keys()]).toEqual([
      'No previous run yet: the changes since the last refresh appear from the next run on.',
    ]);
  });

  it('counts, on the second night, exactly the changes made between the two nights', () => {
    const { header, rows } = sinceBlock(summary2);
    expect(header).toEqual(['Since the last refresh (26 Nov 2026)', 'Deals', 'Value', 'What counts']);
    const wonId = picked['won']![0]!;
    const lostId = picked['lost']![0]!;
    const forwardIds = [picked['forwardLead']![0]!, picked['forwardQualification']![0]!];
    const backwardId = picked['backward']![0]!;
    const goneId = picked['gone']![0]!;
    expect(Object.fromEntries(rows)).toEqual({
      // OPP-900001 ($10,000) and OPP-900002 ($5,000).
      'New deals': [2, 15_000],
      // Their amounts as they are tonight (unchanged by the move).
      Won: [1, amountOf(wonId)],
      Lost: [1, amountOf(lostId)],
      // Lead Generation → Contact and Qualification → Proposal.
      'Moved forward a stage': [2, sum(forwardIds)],
      // Proposal → Qualification.
      'Moved back a stage': [1, amountOf(backwardId)],
      // The two new deals ($15,000) and the raised amount (+$2,000).
      'Value added': [3, 17_000],
      // The cut amount ($1,000) and the deal gone from the view (its whole amount).
      'Value removed': [2, 1_000 + amountOf(goneId)],
    });
  });
});
