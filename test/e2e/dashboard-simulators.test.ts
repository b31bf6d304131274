// The dashboard of a real `serve` process against both simulators, in Debian's chromium at a laptop's 1366×768:
// sign in, press "Sync now" on the sample export, watch it progress and succeed, find the run in the history with
// its duration, and follow the link to the delivered OneDrive file. Screenshots for a human look go to
// test-results/dashboard-simulators*.png.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
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
const ROWS = 1200;

let sim: SimEnv;
let services: ServiceGroup;
let serve: ServiceProcess;
let profileDir: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  sim = await startSimEnv({ rows: ROWS });
  services = createServiceGroup({ ...sim.env, ADMIN_TOKEN: TOKEN });
  // No schedule: the export is manual-only, so nothing runs before the button is pressed.
  const config = await sim.writeConfig(sampleExportYaml({ id: 'sales-pipeline' }));
  serve = await services.serve(config);
  profileDir = mkdtempSync(join(tmpdir(), 'dashboard-sim-profile-'));
  ({ context, page } = await launchChromium(profileDir));
});

afterAll(async () => {
  await context?.close();
  await services?.killAll();
  await sim?.close();
  if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true });
  if (sim !== undefined) rmSync(sim.dir, { recursive: true, force: true });
});

describe('dashboard over a real serve process and the simulators', () => {
  it('syncs the sample export from the browser: progress, success, history with duration, link to the OneDrive file', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    mkdirSync('test-results', { recursive: true });

    await page.goto(serve.baseUrl);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator('#exports tr[data-export-id="sales-pipeline"]');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Never run/);
    expect(await row.textContent()).toMatch(/manual only/);
    expect(await row.textContent()).toMatch(/No file yet/);

    // Half of the Opportunities data, then a pause: the run is visibly in progress for a few seconds.
    sim.tableau.faults.next({ kind: 'slow-body', delayMs: 3_000 });
    await row.getByRole('button', { name: 'Sync sales-pipeline now' }).click();
    await expect.poll(() => row.getByRole('button').textContent(), { timeout: 5_000 }).toMatch(/Syncing/);
    expect(await row.getByRole('button').isDisabled()).toBe(true);
    expect(await row.locator('.progress[role="progressbar"]').count()).toBe(1);
    const running = page.locator('#history tbody tr.run-row').first();
    await expect.poll(() => running.textContent(), { timeout: 5_000 }).toMatch(/manual \(admin\).*Running/);
    await page.screenshot({ path: 'test-results/dashboard-simulators-progress.png' });

    await expect
      .poll(() => page.locator('#banner').textContent(), { timeout: 30_000 })
      .toMatch(/Sync of sales-pipeline succeeded/);
    await expect.poll(() => row.getByRole('button').textContent()).toBe('Sync now');
    expect(await row.locator('.progress').count()).toBe(0);

    // The run as the service recorded it: the page must show the same facts.
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    const runs = (await api.get('/api/exports/sales-pipeline/runs')).body as {
      runs: {
        runId: string;
        status: string;
        durationMs: number;
        rows: number;
        destination: { location: string; webUrl: string };
      }[];
    };
    expect(runs.runs).toHaveLength(1);
    const run = runs.runs[0]!;
    expect(run).toMatchObject({ status: 'succeeded', rows: expect.any(Number) });
    expect(run.durationMs).toBeGreaterThanOrEqual(3_000);
    // All data sheets: the Opportunities view plus the two aggregated views.
    expect(run.rows).toBeGreaterThan(ROWS);
    expect(await page.locator('#banner').textContent()).toMatch(
      new RegExp(`^Sync of sales-pipeline succeeded: ${run.rows.toLocaleString('en-US')} rows in \\d+(\\.\\d)? s\\.$`),
    );
    expect(run.destination.webUrl).toMatch(/^https:\/\//);
    expect((await sim.graph.readFile(run.destination.location))?.length).toBeGreaterThan(0);

    const newest = page.locator('#history tbody tr.run-row').first();
    await expect.poll(() => newest.textContent()).toMatch(/manual \(admin\).*Succeeded/);
    const cells = await newest.locator('td').allTextContents();
    // Started, Trigger, Status, Duration, Rows, Size, Error/warnings.
    expect(cells[3]).toMatch(/^\d+(\.\d)? s$/);
    expect(cells[4]).toBe(run.rows.toLocaleString('en-US'));
    expect(cells[5]).toMatch(/^\d+(\.\d)? KB$/);
    expect(await page.locator('#history-title').textContent()).toBe('Run history: sales-pipeline');

    // The export row now links to the delivered file and says how the last run went.
    await expect
      .poll(() => row.getByRole('link', { name: 'Open file' }).getAttribute('href'), { timeout: 5_000 })
      .toBe(run.destination.webUrl);
    expect(await row.getByRole('link', { name: 'Open file' }).getAttribute('target')).toBe('_blank');
    expect(await row.textContent()).toMatch(/Succeeded/);
    expect(await row.textContent()).toMatch(/manual \(admin\) · \d+(\.\d)? s/);

    // Details of the run: sheets from the simulated Tableau views and the OneDrive location.
    await newest.click();
    const detail = page.locator('tr.detail');
    await expect
      .poll(() => detail.textContent())
      .toMatch(/Sheet Opportunities.*rows from Tableau view Sales Pipeline \/ Opportunities/);
    expect(await detail.textContent()).toContain(run.destination.location);

    await page.screenshot({ path: 'test-results/dashboard-simulators.png', fullPage: false });
    expect(errors).toEqual([]);
  });
});
