// The dashboard of a real `serve` process against both simulators, in Debian's chromium, as an admin uses it:
// sign in; "Sync now" on a slow view shows the live stage, rows and bytes as they happen (server-sent events), then
// the success and what teammates have now; a failed run says what teammates still have, and "Run again" fixes it;
// the history chart and filters; a local export's workbook downloaded from the page; and the same page at a phone's
// 400 px, as stacked cards with nothing to scroll sideways. Screenshots at 1366 and 400 px go to test-results/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleExportYaml, startSimEnv, type SimEnv } from '../integration/helpers/sim-env.js';
import {
  createApiClient,
  createServiceGroup,
  type ServiceGroup,
  type ServiceProcess,
} from '../integration/helpers/service-process.js';

const TOKEN = 'dashboard-sim-e2e-token-0123456789';
/** Enough opportunities for the typing and writing stages to report rows on the way (every 10,000). */
const ROWS = 25_000;
const SHOTS = 'test-results';

let sim: SimEnv;
let services: ServiceGroup;
let serve: ServiceProcess;
let profileDir: string;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  sim = await startSimEnv({ rows: ROWS });
  services = createServiceGroup({ ...sim.env, ADMIN_TOKEN: TOKEN });
  const onedrive = sampleExportYaml({
    id: 'sales-pipeline',
    extra: [
      '      skipUnchanged: false',
      '      uploadSessionThreshold: 327680',
      '      chunkSize: 327680',
      '    schedule: "0 6 * * 1-5"',
      '',
    ].join('\n'),
  });
  const local = [
    '  - id: local-pipeline',
    '    views:',
    '      - { workbook: Sales Pipeline, view: Pipeline by Stage }',
    '    destination: { type: local, dir: ./out, fileName: Pipeline by Stage.xlsx }',
    '',
  ].join('\n');
  const config = await sim.writeConfig(`${onedrive}${local}`);
  serve = await services.serve(config);
  profileDir = mkdtempSync(join(tmpdir(), 'dashboard-sim-profile-'));
  ({ context, page } = await launchChromium(profileDir));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await services?.killAll();
  await sim?.close();
  if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true });
  if (sim !== undefined) rmSync(sim.dir, { recursive: true, force: true });
});

const exportRow = (id: string): Locator => page.locator(`#exports tr[data-export-id="${id}"]`);

/** Records every text the "Now" cell of an export shows, so a test can check stages that last a moment only. */
async function recordNowCell(id: string): Promise<() => Promise<string[]>> {
  await page.evaluate((exportId) => {
    const seen: string[] = [];
    (window as unknown as { seenNow: string[] }).seenNow = seen;
    const observer = new MutationObserver(() => {
      const cell = document.querySelector(`#exports tr[data-export-id="${exportId}"] .now-cell`);
      const text = cell?.textContent ?? '';
      if (text !== seen.at(-1)) seen.push(text);
    });
    observer.observe(document.querySelector('#exports tbody') as Node, {
      childList: true,
      subtree: true,
      characterData: true,
    });
  }, id);
  return () => page.evaluate(() => (window as unknown as { seenNow: string[] }).seenNow);
}

describe('dashboard over a real serve process and the simulators', () => {
  it('Sync now on a slow view: live stage, rows and bytes, then what teammates have', async () => {
    await page.goto(serve.baseUrl);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = exportRow('sales-pipeline');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Never run/);
    expect(await row.textContent()).toMatch(/No file yet/);
    // The next run in the export's zone first, the cron expression second.
    expect(await row.locator('td[data-label="Next run"]').textContent()).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri) (\d+ \w{3}, )?06:00 (EST|EDT), in \d+ (h|days|min)0 6 \* \* 1-5 \(America\/New_York\)$/,
    );
    await expect.poll(() => page.locator('#live-state').textContent(), { timeout: 5_000 }).toBe('Live');

    const seen = await recordNowCell('sales-pipeline');
    // Half of the Opportunities data, then a pause: the download is visibly in progress for a few seconds.
    sim.tableau.faults.next({ kind: 'slow-body', delayMs: 3_000 });
    await row.getByRole('button', { name: 'Sync sales-pipeline now' }).click();
    await expect
      .poll(() => row.getByRole('button', { name: /Sync/ }).textContent(), { timeout: 5_000 })
      .toMatch(/Syncing/);
    await expect
      .poll(() => row.locator('.now-cell').textContent(), { timeout: 5_000 })
      .toMatch(/Running\s*Download · \d+ sresolvefetchtypewriteupload(Opportunities|Pipeline by Stage)/);
    expect(await row.locator('ol.stages li[aria-current="step"]').textContent()).toBe('fetch');
    await page.screenshot({ path: `${SHOTS}/dashboard-1366-progress.png` });

    await expect
      .poll(() => page.locator('#banner').textContent(), { timeout: 60_000 })
      .toMatch(/Sync of sales-pipeline succeeded: [\d,]+ rows in \d+(\.\d)? s\./);
    const texts = (await seen()).join('\n');
    // Typing the first rows, then the one read that types and writes every row (its total known at its end), and
    // the bytes of the upload. Progress is published at most a few times a second, so some counts may be skipped.
    expect(texts).toMatch(/Type columns · \d+ s.*Opportunities \(1\/3\)/);
    expect(texts).toMatch(/Write · \d+ s.*Opportunities \(1\/3\): (10,000|20,000) rows/);
    expect(texts).toMatch(/Deliver · \d+ s.*[\d.]+ (KB|MB) of [\d.]+ MB uploaded/);
    expect(texts).not.toMatch(/Stalled/);

    const api = createApiClient(() => serve.baseUrl, TOKEN);
    const runs = (await api.get('/api/exports/sales-pipeline/runs')).body as {
      runs: { status: string; rows: number; destination: { webUrl: string } }[];
    };
    const run = runs.runs[0];
    expect(run).toMatchObject({ status: 'succeeded' });
    // What teammates have now: the workbook just delivered, its rows, and the link to it.
    const have = row.locator('td[data-label="Teammates have"]');
    await expect.poll(() => have.textContent()).toMatch(/^Workbook of \w{3} \d\d:\d\d (EST|EDT)/);
    expect(await have.textContent()).toContain(`${run?.rows.toLocaleString('en-US')} rows`);
    expect(await have.getByRole('link', { name: 'Open file' }).getAttribute('href')).toBe(run?.destination.webUrl);
    await page.screenshot({ path: `${SHOTS}/dashboard-1366.png`, fullPage: true });
  }, 90_000);

  it('a failure says what teammates still have, in full; Run again delivers; the chart and filters follow', async () => {
    const row = exportRow('sales-pipeline');
    const before = (await row.locator('td[data-label="Teammates have"] .sub').first().textContent()) ?? '';
    const rows = /^([\d,]+) rows/.exec(before)?.[1] ?? '?';
    sim.tableau.faults.next({ kind: 'status', status: 403, code: '403004', summary: 'Forbidden', times: 20 });
    await row.getByRole('button', { name: 'Sync sales-pipeline now' }).click();
    await expect
      .poll(() => page.locator('#banner').textContent(), { timeout: 30_000 })
      .toMatch(/Sync of sales-pipeline failed/);
    sim.tableau.faults.clear();
    const now = row.locator('.now-cell');
    await expect.poll(() => now.textContent()).toMatch(/Failed/);
    // The whole error in the cell, not only in a tooltip; and what the teammates' file is.
    expect(await now.locator('.error-text').textContent()).toMatch(/^[A-Z_]+: .{20,}/);
    expect(await now.locator('.still-have').textContent()).toMatch(
      new RegExp(`^Teammates still have the workbook of \\w{3} \\d\\d:\\d\\d (EST|EDT) \\(${rows} rows\\)\\.$`),
    );
    expect(await page.locator('#banner').textContent()).toMatch(/Teammates still have the workbook of/);
    await page.screenshot({ path: `${SHOTS}/dashboard-1366-failed.png`, fullPage: true });

    // The failed run's detail says what the destination holds.
    const failedRow = page.locator('#history tbody tr.run-row').first();
    expect(await failedRow.textContent()).toMatch(/Failed/);
    expect(await failedRow.locator('.details-cell').textContent()).toMatch(/^[A-Z_]+: /);
    await failedRow.click();
    await expect
      .poll(() => page.locator('tr.detail').textContent())
      .toMatch(new RegExp(`Teammates havethe workbook of .*\\(${rows} rows, run `));

    // The history chart: a bar per run, the failed one marked.
    await expect.poll(() => page.locator('#history-chart rect.bar').count()).toBe(2);
    expect(await page.locator('#history-chart rect.bar.failed').count()).toBe(1);
    // Filters: only failed runs, then only scheduled ones (none), then all again.
    await page.locator('#filter-status').selectOption('failed');
    await expect.poll(() => page.locator('#history tbody tr.run-row').count()).toBe(1);
    await page.locator('#filter-status').selectOption('');
    await page.locator('#filter-trigger').selectOption('schedule');
    await expect.poll(() => page.locator('#no-history').isVisible()).toBe(true);
    expect(await page.locator('#no-history').textContent()).toBe('No run matches these filters.');
    await page.locator('#filter-trigger').selectOption('');
    await expect.poll(() => page.locator('#history tbody tr.run-row').count()).toBe(2);

    // Run again, from the failed run in the history.
    await page
      .locator('#history tbody tr.run-row')
      .first()
      .getByRole('button', { name: 'Run sales-pipeline again' })
      .click();
    await expect
      .poll(() => page.locator('#banner').textContent(), { timeout: 60_000 })
      .toMatch(/Sync of sales-pipeline succeeded/);
    await expect.poll(() => page.locator('#history-chart rect.bar').count()).toBe(3);
    expect(await row.locator('.now-cell').textContent()).toMatch(/Succeeded/);
  }, 120_000);
});

describe('dashboard: local exports, phone width', () => {
  it("downloads a local export's workbook from the page", async () => {
    const row = exportRow('local-pipeline');
    expect(await row.textContent()).toMatch(/No file yet/);
    await row.getByRole('button', { name: 'Sync local-pipeline now' }).click();
    await expect
      .poll(() => page.locator('#banner').textContent(), { timeout: 30_000 })
      .toMatch(/Sync of local-pipeline succeeded/);
    const have = row.locator('td[data-label="Teammates have"]');
    await expect.poll(() => have.textContent()).toMatch(/Workbook of/);
    expect(await have.locator('.path').textContent()).toMatch(/\/out\/Pipeline by Stage\.xlsx$/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      have.getByRole('button', { name: 'Download Pipeline by Stage.xlsx' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('Pipeline by Stage.xlsx');
    const saved = await download.path();
    const onDisk = readFileSync(join(sim.dir, 'out', 'Pipeline by Stage.xlsx'));
    expect(readFileSync(saved).equals(onDisk)).toBe(true);
    // The link never carried the admin token.
    expect(download.url()).not.toContain(TOKEN);
    expect(download.url()).toMatch(/\/api\/exports\/local-pipeline\/file\?ticket=/);
  }, 60_000);

  it('at a phone width of 400 px: stacked cards, nothing to scroll sideways', async () => {
    await page.setViewportSize({ width: 400, height: 860 });
    await page.reload();
    await exportRow('sales-pipeline').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // The tables are cards: cells are blocks, each labelled, and every card fits the screen.
    // (The page re-renders rows as the list refreshes: ask again until a row answers.)
    await expect
      .poll(() =>
        exportRow('sales-pipeline')
          .locator('td')
          .first()
          .evaluate((td) => (td.isConnected ? getComputedStyle(td).display : '')),
      )
      .toBe('block');
    const widths = await page
      .locator('#exports tbody tr, #history tbody tr.run-row')
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().right));
    expect(Math.max(...widths)).toBeLessThanOrEqual(400);
    expect(await page.locator('#history-chart svg').boundingBox()).toMatchObject({ width: expect.any(Number) });
    expect((await page.locator('#history-chart svg').boundingBox())?.width ?? 999).toBeLessThanOrEqual(400);
    await page.screenshot({ path: `${SHOTS}/dashboard-400.png`, fullPage: true });
    // The buttons are still there and usable.
    expect(await exportRow('sales-pipeline').getByRole('button', { name: 'Sync sales-pipeline now' }).isEnabled()).toBe(
      true,
    );
    await page.setViewportSize({ width: 1366, height: 768 });
  }, 30_000);

  it('logs "admin server listening" once, and no page errors happened', () => {
    expect(serve.logs().filter((l) => l.msg?.startsWith('admin server listening')).length).toBe(1);
    expect(errors).toEqual([]);
  });
});
