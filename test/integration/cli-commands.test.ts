/**
 * The browsing and checking commands through the real CLI against the simulators: views (to build a config),
 * validate --online (signs in and resolves every view and drive), list (next run, last status) and history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { sampleExportYaml, startSimEnv, type SimEnv } from './helpers/sim-env.js';

let sim: SimEnv;
beforeAll(async () => {
  sim = await startSimEnv({ rows: 200 });
});
afterAll(async () => sim.close());

describe('CLI commands against the simulators', () => {
  it('views lists workbooks, views and sheet types, and flags dashboards', async () => {
    const cfg = await sim.writeConfig(sampleExportYaml());
    const res = await runCli(['views', '--config', cfg], { env: sim.env });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Sales Pipeline\s+Opportunities\s+worksheet/);
    expect(res.stdout).toMatch(/Pipeline Overview\s+dashboard/);
    expect(res.stdout).toMatch(/dashboards and stories export only one worksheet/);
    const json = await runCli(['views', '--workbook', 'Sales Pipeline', '--json', '--config', cfg], { env: sim.env });
    const workbooks = JSON.parse(json.stdout) as { name: string; views: { name: string; sheetType: string }[] }[];
    expect(workbooks.map((w) => w.name)).toEqual(['Sales Pipeline']);
    expect(workbooks[0]?.views.map((v) => v.name)).toEqual(
      expect.arrayContaining(['Opportunities', 'Pipeline by Stage', 'Rep Performance', 'Pipeline Overview']),
    );
    expect(sim.tableau.stats.signOuts).toBe(sim.tableau.stats.signIns);
  });

  it('validate --online resolves every view and the drive, and reports a view that does not exist with candidates', async () => {
    const good = await sim.writeConfig(sampleExportYaml());
    const ok = await runCli(['validate', '--online', '--config', good], { env: sim.env });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✓ pipeline: view "Sales Pipeline \/ Opportunities" → [0-9a-f-]{36}/);
    expect(ok.stdout).toMatch(/✓ pipeline: destination OneDrive/);
    expect(ok.stdout).toMatch(/online check passed/);
    // One verdict, at the end.
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(/: valid \(1 export\), online check passed$/);

    const bad = await sim.writeConfig(sampleExportYaml().replace('view: Rep Performance', 'view: Rep Performances'));
    const res = await runCli(['validate', '--online', '--config', bad], { env: sim.env });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Rep Performances/);
    expect(res.stderr).toMatch(/Rep Performance\b/); // the candidates
    expect(res.stderr).toMatch(/tableau-export views/);
    expect(res.stderr).toMatch(/online check failed \(1 problem; the file itself is well formed\)/);
    // No "valid" before the failure: one verdict.
    expect(res.stdout + res.stderr).not.toMatch(/valid \(1 export\)/);
  });

  it('serve --help documents the admin tokens', async () => {
    const res = await runCli(['serve', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/ADMIN_TOKENS\s+named admin tokens, name:token,name:token/);
    expect(res.stdout).toMatch(/ADMIN_TOKEN\s+one admin token/);
  });

  it('validate (offline) exits 2 naming the env var that is missing', async () => {
    const cfg = await sim.writeConfig(sampleExportYaml());
    const res = await runCli(['validate', '--config', cfg], { env: { ...sim.env, TABLEAU_PAT_SECRET: '' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/tableau\.auth\.tokenSecretEnv: environment variable TABLEAU_PAT_SECRET is not set/);
  });

  it('list shows the next run in the export time zone and the last status; history shows the run', async () => {
    const cfg = await sim.writeConfig(sampleExportYaml({ extra: '    schedule: "30 2 * * *"\n' }));
    const run = await runCli(['run', '--all', '--config', cfg, '--json'], { env: sim.env });
    expect(run.code).toBe(0);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const list = await runCli(['list', '--json', '--config', cfg], { env: sim.env });
    expect(list.code).toBe(0);
    const [entry] = JSON.parse(list.stdout) as {
      id: string;
      schedule: string;
      timezone: string;
      nextRun: string;
      lastStatus: string;
    }[];
    expect(entry).toMatchObject({
      id: 'pipeline',
      schedule: '30 2 * * *',
      timezone: 'America/New_York',
      lastStatus: 'succeeded',
    });
    expect(entry?.nextRun).toMatch(/T02:30:00-0[45]:00$/);
    const history = await runCli(['history', 'pipeline', '--config', cfg], { env: sim.env });
    expect(history.code).toBe(0);
    expect(history.stdout).toContain(runId);
    const detail = await runCli(['history', runId, '--json', '--config', cfg], { env: sim.env });
    expect(JSON.parse(detail.stdout)).toMatchObject({ runId, status: 'succeeded', trigger: { kind: 'cli' } });
  });
});
