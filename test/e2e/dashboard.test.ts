// The dashboard in a real browser (Debian's chromium, installed by scripts/ensure-chromium.sh): sign in with a
// token, press "Sync now", watch the run progress and succeed, find it in the history; a run that goes quiet for
// longer than its stage's timeout shows as stalled. Screenshots at 1366 and 400 px go to test-results/ for a human
// look at the layout.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/contracts/run-report.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import type { ExportRunner } from '../../src/contracts/export-runner.js';
import { systemClock } from '../../src/shared/clock.js';
import { createSilentLogger } from '../../src/shared/logger.js';
import { createAdminServer, type AdminServer } from '../../src/server/admin-server.js';
import { createSchedulerControl } from '../../src/scheduler/scheduler-control.js';
import { createRunMetrics } from '../../src/server/metrics.js';
import { createLiveRuns } from '../../src/server/live-runs.js';
import { openStateDatabase, type StateDatabase } from '../../src/state/database.js';
import type { RunStore } from '../../src/contracts/run-store.js';
import { createSqliteRunStore } from '../../src/state/sqlite-run-store.js';

const TOKEN = 'dashboard-e2e-token-0123456789';
const FILE_URL = 'https://contoso-my.sharepoint.com/personal/ops_contoso_com/Documents/Reports/Sales%20Pipeline.xlsx';

/** Succeeds after about a second, like a small real export; the failing export fails with a clear error. */
function createFakeRunner(store: RunStore): ExportRunner {
  return async (exportId, trigger, { runId, signal, onStart, onProgress }) => {
    const startedAt = new Date();
    await store.insertRun({ runId, exportId, trigger, startedAt: startedAt.toISOString() });
    onStart?.(runId);
    // The stuck export reports that it is downloading, then nothing, for longer than the stage may stay quiet.
    const stuck = exportId === 'stuck-export';
    if (stuck) onProgress?.({ stage: 'fetch', sheet: 'Opportunities', rows: 0, stageTimeoutMs: 1_500 });
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, stuck ? 6_000 : 1_000);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    const finishedAt = new Date();
    const failed = exportId === 'finance-forecast';
    const report: RunReport = {
      runId,
      exportId,
      trigger,
      status: failed ? 'failed' : 'succeeded',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      sheets: failed ? [] : [{ sheet: 'Opportunities', rows: 1284, source: "view 'Sales Pipeline/Opportunities'" }],
      rows: failed ? 0 : 1284,
      bytes: failed ? 0 : 183_296,
      destination: failed
        ? undefined
        : { location: 'onedrive:ops@contoso.com/Reports/Sales Pipeline.xlsx', webUrl: FILE_URL },
      warnings: [],
      error: failed
        ? {
            code: 'TABLEAU_VIEW_NOT_FOUND',
            message: "view 'Forecast' not found in workbook 'Finance'; run `tableau-export views --workbook Finance`",
          }
        : undefined,
      timings: { fetch: 600, write: 250, upload: 150 },
      dataHash: undefined,
    };
    await store.finishRun(report);
    return report;
  };
}

let dir: string;
let db: StateDatabase;
let scheduler: Scheduler;
let server: AdminServer;
let baseUrl: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
  db = openStateDatabase(join(dir, 'state'));
  const store = createSqliteRunStore(db);
  // Some history, so the page is seen as an admin sees it after a few days; one entry tries to inject markup.
  const past = (daysAgo: number, hour: number): string =>
    new Date(Date.now() - daysAgo * 86_400_000 + hour * 60_000).toISOString();
  const seeded: Array<Partial<RunReport> & Pick<RunReport, 'runId' | 'exportId' | 'status' | 'startedAt'>> = [
    {
      runId: 'seed-1',
      exportId: 'sales-pipeline-nightly',
      status: 'succeeded',
      startedAt: past(2, 0),
      rows: 1250,
      bytes: 180_000,
      destination: { location: 'x', webUrl: FILE_URL },
    },
    {
      runId: 'seed-2',
      exportId: 'sales-pipeline-nightly',
      status: 'failed',
      startedAt: past(1, 0),
      error: {
        code: 'DESTINATION_LOCKED',
        message: 'Sales Pipeline.xlsx is open in Excel (HTTP 423); retried for 30 min',
      },
    },
    {
      runId: 'seed-3',
      exportId: 'finance-forecast',
      status: 'failed',
      startedAt: past(1, 5),
      error: { code: 'XSS_PROBE', message: '<img src=x onerror="document.title=\'pwned\'">' },
    },
    { runId: 'seed-4', exportId: 'emea-weekly', status: 'unchanged', startedAt: past(3, 0), rows: 312, bytes: 41_000 },
    {
      runId: 'seed-5',
      exportId: 'regions-burst',
      status: 'failed',
      startedAt: past(1, 10),
      rows: 180,
      error: { code: 'BURST_PARTS_FAILED', message: '1 of 2 burst parts failed (the others were delivered): "NA"' },
      burst: { by: 'Region', into: 'files', values: ['EMEA', 'NA'], discovered: true },
      parts: [
        {
          value: 'EMEA',
          status: 'succeeded',
          sheets: [{ sheet: 'Opportunities', rows: 180, source: 'Tableau view' }],
          rows: 180,
          bytes: 9_000,
          destination: { location: 'Reports/EMEA.xlsx', webUrl: FILE_URL },
          warnings: [],
        },
        {
          value: 'NA',
          status: 'failed',
          sheets: [],
          rows: 0,
          bytes: 0,
          warnings: [],
          error: { code: 'ONEDRIVE_FORBIDDEN', message: 'HTTP 403 accessDenied' },
        },
      ],
    },
  ];
  for (const s of seeded) {
    await store.finishRun({
      trigger: { kind: 'schedule', scheduledFor: s.startedAt },
      finishedAt: s.startedAt,
      durationMs: 42_000,
      sheets: [],
      rows: 0,
      bytes: 0,
      destination: undefined,
      warnings: [],
      error: undefined,
      timings: {},
      dataHash: undefined,
      ...s,
    });
  }

  const metrics = createRunMetrics();
  const live = createLiveRuns({ clock: systemClock });
  let n = 0;
  scheduler = createScheduler({
    exports: [
      {
        id: 'sales-pipeline-nightly',
        schedule: '0 6 * * 1-5',
        timezone: 'America/New_York',
        catchUp: false,
        destinationLabel: 'OneDrive ops@contoso.com · Reports/Sales Pipeline.xlsx',
      },
      {
        id: 'finance-forecast',
        schedule: '30 2 * * *',
        timezone: 'Europe/Paris',
        catchUp: false,
        destinationLabel: 'SharePoint Finance · Shared Documents/Forecast.xlsx',
      },
      {
        id: 'emea-weekly',
        schedule: '0 7 * * 1',
        timezone: 'Europe/Paris',
        catchUp: false,
        destinationLabel: 'local ./out/emea-weekly.xlsx',
      },
      { id: 'adhoc-export', timezone: 'UTC', catchUp: false, destinationLabel: 'local ./out/adhoc.xlsx' },
      {
        id: 'regions-burst',
        timezone: 'UTC',
        catchUp: false,
        destinationLabel: 'OneDrive ops@contoso.com · Reports/{Region}.xlsx',
      },
      { id: 'stuck-export', timezone: 'UTC', catchUp: false, destinationLabel: 'local ./out/stuck.xlsx' },
    ],
    runner: createFakeRunner(store),
    store,
    logger: createSilentLogger(),
    clock: systemClock,
    newRunId: () => `run-${Date.now().toString(36)}-${++n}`,
    observer: metrics,
    progress: live,
  });
  await scheduler.start();
  server = createAdminServer({
    control: createSchedulerControl(scheduler),
    history: store,
    tokens: [{ name: 'e2e-admin', token: TOKEN }],
    logger: createSilentLogger(),
    registry: metrics.registry,
    live,
    liveSnapshotEveryMs: 500,
  });
  baseUrl = await server.listen(0, '127.0.0.1');

  ({ context, page } = await launchChromium(join(dir, 'profile')));
});

afterAll(async () => {
  await context?.close();
  await scheduler?.stop({ deadlineMs: 2_000 });
  await server?.close();
  db?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard', () => {
  it('signs in, syncs an export with visible progress, and shows the run in the history', async () => {
    await page.goto(baseUrl);
    mkdirSync('test-results', { recursive: true });
    await page.getByLabel('Admin token').fill('wrong-token-but-long-enough');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#sign-in-error').textContent()).toMatch(/not accepted/);
    await page.screenshot({ path: 'test-results/dashboard-sign-in.png' });

    // From here on, no script error and no failed request (the 401 above was expected).
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator('#exports tr[data-export-id="sales-pipeline-nightly"]');
    await row.waitFor();
    expect(await page.locator('#exports tbody tr').count()).toBe(6);
    expect(await row.getByRole('link', { name: 'Open file' }).getAttribute('href')).toBe(FILE_URL);
    // The last run failed: its whole error, and what teammates still have (the success of two days ago).
    expect(await row.locator('.now-cell .error-text').textContent()).toBe(
      'DESTINATION_LOCKED: Sales Pipeline.xlsx is open in Excel (HTTP 423); retried for 30 min',
    );
    expect(await row.locator('.now-cell .still-have').textContent()).toMatch(
      /^Teammates still have the workbook of \w{3}( \d+ \w{3},)? \d\d:\d\d E[SD]T \(1,250 rows\)\.$/,
    );
    // Markup in data is shown as text, never interpreted.
    await page.locator('#exports tr[data-export-id="finance-forecast"]').click();
    await expect.poll(() => page.locator('#history').textContent()).toContain('<img src=x onerror=');
    expect(await page.locator('#history img').count()).toBe(0);
    expect(await page.title()).toBe('Tableau exports');

    // The token survives a reload (sessionStorage), so no second sign-in.
    await page.reload();
    await row.waitFor();

    await row.getByRole('button', { name: /Sync sales-pipeline-nightly now/ }).click();
    await expect.poll(() => row.getByRole('button').textContent(), { timeout: 5_000 }).toMatch(/Syncing/);
    expect(await row.locator('.progress').count()).toBe(1);
    await expect
      .poll(() => page.locator('#banner').textContent(), { timeout: 15_000 })
      .toMatch(/Sync of sales-pipeline-nightly succeeded: 1,284 rows/);
    await expect.poll(() => row.getByRole('button').textContent()).toBe('Sync now');

    const newest = page.locator('#history tbody tr.run-row').first();
    await expect.poll(() => newest.textContent()).toMatch(/manual \(e2e-admin\).*Succeeded/);
    expect(await newest.textContent()).toMatch(/1,284/);
    expect(await page.locator('#history-title').textContent()).toBe('Run history: sales-pipeline-nightly');

    // The failed run of the day before is listed with its error.
    expect(await page.locator('#history').textContent()).toContain(
      'DESTINATION_LOCKED: Sales Pipeline.xlsx is open in Excel',
    );

    // Details open on click.
    await newest.click();
    await expect.poll(() => page.locator('tr.detail').textContent()).toMatch(/Opportunities.*1,284 rows/);

    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: false });
    expect(errors).toEqual([]);
  });

  it('shows a run that went quiet for longer than its stage timeout as stalled', async () => {
    const row = page.locator('#exports tr[data-export-id="stuck-export"]');
    await row.getByRole('button', { name: 'Sync stuck-export now' }).click();
    await expect.poll(() => row.locator('.now-cell').textContent(), { timeout: 5_000 }).toMatch(/Running\s*Download/);
    // Nothing for 1.5 s (the limit the run gave its fetch stage): the next snapshot of the stream says stalled.
    await expect.poll(() => row.locator('.now-cell').textContent(), { timeout: 5_000 }).toMatch(/Stalled/);
    expect(await row.locator('.now-cell .warn-text').textContent()).toMatch(
      /^No progress for \d+(\.\d)? s \(the fetch stage may stay quiet 1\.5 s\): its process may be stuck or gone\.$/,
    );
    await page.screenshot({ path: 'test-results/dashboard-stalled.png' });
    await expect.poll(() => row.locator('.now-cell').textContent(), { timeout: 15_000 }).toMatch(/Succeeded/);
  }, 30_000);

  it('lists the parts of a burst run in its detail, each with its status, file link and error', async () => {
    const exportRow = page.locator('#exports tr[data-export-id="regions-burst"]');
    expect(await exportRow.locator('.still-have').textContent()).toBe(
      'Delivered for EMEA; NA kept the file they had, if any (`run --failed` re-runs only those).',
    );
    await exportRow.click();
    const run = page.locator('#history tbody tr.run-row').first();
    await expect.poll(() => run.textContent()).toMatch(/BURST_PARTS_FAILED/);
    await run.click();
    const detail = page.locator('tr.detail');
    await expect.poll(() => detail.textContent()).toMatch(/Burstby Region into files: 2 values \(read from the data\)/);
    expect(await detail.textContent()).toMatch(/Part EMEAsucceeded · 180 rows · Reports\/EMEA\.xlsx/);
    expect(await detail.textContent()).toMatch(/Part NAfailed · 0 rows · ONEDRIVE_FORBIDDEN: HTTP 403 accessDenied/);
    expect(await detail.getByRole('link', { name: 'open' }).getAttribute('href')).toBe(FILE_URL);
    expect(await detail.locator('.error-text').textContent()).toMatch(/^failed/);
    await page.screenshot({ path: 'test-results/dashboard-burst-parts.png' });
  });

  it('at 400 px: stacked cards and no sideways scrolling', async () => {
    await page.setViewportSize({ width: 400, height: 860 });
    await page.reload();
    await page.locator('#exports tr[data-export-id="sales-pipeline-nightly"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/dashboard-fake-400.png', fullPage: true });
    await page.setViewportSize({ width: 1366, height: 768 });
  });
});
