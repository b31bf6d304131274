/**
 * `npm run demo`'s main workbook, read as a teammate's tools read it: openpyxl (an independent reader) and
 * LibreOffice headless find every expected chart with the right type and series ranges, none over an empty range;
 * printed through LibreOffice, the 5,000-deal workbook takes a reasonable number of pages, the Summary one, the
 * data sheets landscape. The Summary and the Monthly revenue chart are rendered to PNG (LibreOffice → PDF →
 * pdftoppm); with UPDATE_README_IMAGES=1 they are copied to docs/ for the README.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import XLSX from 'xlsx';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './helpers/cli.js';

const exec = promisify(execFile);
const PYTHON = '/usr/bin/python3';

interface ChartSeries {
  name: string;
  values: string;
  categories: string;
  valueCells: unknown[];
  categoryCells: unknown[];
}
interface Chart {
  sheet: string;
  title: string;
  groups: { type: string; barDir: string | null; grouping: string | null; axes: number[]; series: ChartSeries[] }[];
}

let dir: string;
let book: string;
let charts: Chart[];
let pdf: string;
let pageSheets: string[];

/** LibreOffice headless with a private profile (never the user's), converting `file` into `dir`. */
async function convert(file: string, to: string): Promise<void> {
  await exec(
    'soffice',
    [
      `-env:UserInstallation=file://${join(dir, 'lo-profile')}`,
      '--headless',
      '--convert-to',
      to,
      '--outdir',
      dir,
      file,
    ],
    { timeout: 240_000 },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-demo-charts-'));
  await mkdir(join(dir, 'config'));
  await copyFile(join(REPO_ROOT, 'config', 'exports.yaml'), join(dir, 'config', 'exports.yaml'));
  // The demo's update-mode export seeds its team workbook from the config folder.
  await copyFile(join(REPO_ROOT, 'config', 'team-workbook.xlsx'), join(dir, 'config', 'team-workbook.xlsx'));
  const res = await runCli(['demo', '--config', join(dir, 'config', 'exports.yaml')], { timeoutMs: 240_000 });
  expect(res.code, res.stdout + res.stderr).toBe(0);
  const stored = /✓ sales-pipeline-nightly:[\s\S]*?open it: {2}(.+\.xlsx) {2}\(version/.exec(res.stdout)?.[1];
  expect(stored, res.stdout).toBeDefined();
  book = join(dir, 'book.xlsx');
  await copyFile(stored!, book);
  charts = JSON.parse(
    (await exec(PYTHON, [join(REPO_ROOT, 'test/integration/helpers/read-charts.py'), book])).stdout,
  ) as Chart[];
  await convert(book, 'pdf');
  await convert(book, 'ods');
  pdf = join(dir, 'book.pdf');
  const pages = Number(/Pages:\s+(\d+)/.exec((await exec('pdfinfo', [pdf])).stdout)?.[1]);
  const text = (await exec('pdftotext', ['-layout', pdf, '-'], { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\f');
  // Every page's footer says which sheet it prints: "Summary ... Page 1 of 88".
  pageSheets = text.slice(0, pages).map((page) => /^\s*(\S.*?)\s{2,}Page \d+ of \d+\s*$/m.exec(page)?.[1] ?? '');
}, 600_000);

function chartOf(sheet: string): Chart {
  const found = charts.filter((c) => c.sheet === sheet);
  expect(found, sheet).toHaveLength(1);
  return found[0]!;
}

const column = (ref: string): string => /!\$([A-Z]+)\$\d+:/.exec(ref)?.[1] ?? '';

describe('the demo workbook, read with openpyxl', () => {
  it('carries every chart with its type, and series over the right columns of its table', () => {
    expect(charts.map((c) => c.sheet).sort()).toEqual(
      ['By owner', 'By product', 'Funnel', 'Lead target', 'Monthly revenue', 'Trend'].sort(),
    );
    const shape = (c: Chart): unknown =>
      c.groups.map((g) => [
        g.type,
        g.barDir,
        g.grouping,
        g.series.map((s) => [column(s.values), column(s.categories)]),
      ]);
    // Funnel: horizontal bars of the value per stage (C) over the stages (A).
    expect(shape(chartOf('Funnel'))).toEqual([['BarChart', 'bar', 'clustered', [['C', 'A']]]]);
    // By owner: won value (G) as columns, win rate (H) as a line on its own axes.
    expect(shape(chartOf('By owner'))).toEqual([
      ['BarChart', 'col', 'clustered', [['G', 'A']]],
      ['LineChart', null, 'standard', [['H', 'A']]],
    ]);
    // Monthly revenue: revenue (C) as columns, growth (E) as a line on the secondary axis.
    expect(shape(chartOf('Monthly revenue'))).toEqual([
      ['BarChart', 'col', 'clustered', [['C', 'A']]],
      ['LineChart', null, 'standard', [['E', 'A']]],
    ]);
    const monthly = chartOf('Monthly revenue');
    expect(monthly.groups[0]?.axes).not.toEqual(monthly.groups[1]?.axes);
    // Lead target: cumulative actual (D) and cumulative target (E), two lines.
    expect(shape(chartOf('Lead target'))).toEqual([
      [
        'LineChart',
        null,
        'standard',
        [
          ['D', 'A'],
          ['E', 'A'],
        ],
      ],
    ]);
    // Trend: each open stage's value stacked per week.
    expect(shape(chartOf('Trend'))).toEqual([
      ['BarChart', 'col', 'stacked', ['D', 'F', 'H', 'J', 'L'].map((c) => [c, 'A'])],
    ]);
  });

  it('names each series by its header cell and never charts an empty range', () => {
    for (const c of charts) {
      for (const s of c.groups.flatMap((g) => g.series)) {
        const where = `${c.sheet} ${s.values}`;
        expect(s.valueCells.length, where).toBeGreaterThan(0);
        expect(s.valueCells.filter((v) => typeof v === 'number').length, where).toBeGreaterThan(0);
        expect(s.categoryCells.filter((v) => v !== null && v !== '').length, where).toBe(s.categoryCells.length);
        // The name cell is the header just above the values.
        const first = Number(/\$(\d+):/.exec(s.values)?.[1]);
        expect(s.name, where).toBe(s.values.replace(/\$\d+:.*$/, `$${first - 1}`));
      }
      expect(c.title, c.sheet).toMatch(/\w/);
    }
  });
});

describe('the demo workbook, opened by LibreOffice headless', () => {
  it('has a chart object for each chart, of the same type, over the same cells', async () => {
    const ods = XLSX.CFB.read(await readFile(join(dir, 'book.ods')), { type: 'buffer' }) as {
      FullPaths: string[];
      FileIndex: { type: number; content?: Uint8Array }[];
    };
    const objects: { chart: string; series: string[] }[] = [];
    ods.FullPaths.forEach((path, i) => {
      const content = ods.FileIndex[i]?.content;
      if (!/Object \d+\/content\.xml$/.test(path) || content === undefined) return;
      const xml = Buffer.from(content).toString('utf8');
      objects.push({
        chart: /<chart:chart [^>]*chart:class="chart:(\w+)"/.exec(xml)?.[1] ?? '',
        series: [...xml.matchAll(/<chart:series [^>]*>/g)].map(
          (m) =>
            `${/chart:class="chart:(\w+)"/.exec(m[0])?.[1] ?? ''} ${/chart:values-cell-range-address="([^"]+)"/.exec(m[0])?.[1]?.replace(/&apos;/g, "'") ?? ''}`,
        ),
      });
    });
    expect(objects).toHaveLength(6);
    const lo = objects.map((o) => o.series.join(' | ')).sort();
    const ours = charts
      .map((c) =>
        c.groups
          .flatMap((g) =>
            g.series.map((s) => {
              const [, sheet, a, b] = /^(.+)!\$([A-Z]+\$\d+):\$([A-Z]+\$\d+)$/.exec(s.values) ?? [];
              const name = sheet?.replace(/^'(.*)'$/, '$1') ?? '';
              const quoted = /\s/.test(name) ? `'${name}'` : name;
              return `${g.type === 'LineChart' ? 'line' : 'bar'} ${quoted}.${a?.replace('$', '')}:${quoted}.${b?.replace('$', '')}`;
            }),
          )
          .join(' | '),
      )
      .sort();
    expect(lo).toEqual(ours);
  });

  it('prints 5,000 deals in a reasonable number of pages: the Summary on one, the data landscape', async () => {
    const count = (sheet: string): number => pageSheets.filter((s) => s === sheet).length;
    expect(pageSheets[0]).toBe('Summary');
    expect(count('Summary')).toBe(1);
    // 5,000 rows of 15 columns, one page wide: about 85 rows a page.
    expect(count('Opportunities')).toBeGreaterThan(40);
    expect(count('Opportunities')).toBeLessThanOrEqual(70);
    expect(pageSheets.length).toBeLessThanOrEqual(100);
    expect(pageSheets.filter((s) => s === '')).toEqual([]);
    const size = async (page: number): Promise<[number, number]> => {
      const out = (await exec('pdfinfo', ['-f', String(page), '-l', String(page), pdf])).stdout;
      const m = /size:\s+([\d.]+) x ([\d.]+)/.exec(out);
      return [Number(m?.[1]), Number(m?.[2])];
    };
    const [width, height] = await size(pageSheets.indexOf('Opportunities') + 1);
    expect(width).toBeGreaterThan(height);
  });

  it('renders the Summary and the Monthly revenue chart to PNG', async () => {
    const render = async (sheet: string, name: string): Promise<string> => {
      const page = pageSheets.indexOf(sheet) + 1;
      expect(page, sheet).toBeGreaterThan(0);
      const prefix = join(dir, name);
      await exec('pdftoppm', ['-png', '-r', '110', '-singlefile', '-f', String(page), '-l', String(page), pdf, prefix]);
      return `${prefix}.png`;
    };
    const images = [await render('Summary', 'summary'), await render('Monthly revenue', 'monthly-revenue-chart')];
    for (const image of images) expect((await stat(image)).size).toBeGreaterThan(30_000);
    if (process.env['UPDATE_README_IMAGES'] === '1') {
      await mkdir(join(REPO_ROOT, 'docs'), { recursive: true });
      for (const image of images) await copyFile(image, join(REPO_ROOT, 'docs', image.slice(dir.length + 1)));
    }
    await writeFile(join(dir, 'rendered.txt'), images.join('\n'));
  });
});
