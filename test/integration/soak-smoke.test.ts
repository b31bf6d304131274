/**
 * `npm run soak` in miniature (3 nights of 2 exports, 20–40 s on a loaded 2-core machine): the real fleet in queue
 * mode against the simulators, with the plan's faults and worker kills (the default seed kills worker 2 on nights 1
 * and 2). The soak itself judges the run: it must exit 0 with every verdict passed and every run accounted for.
 * The full soak (30 nights of 20 exports, Redis restarts too) is `npm run soak`, outside `npm test`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const out = mkdtempSync(join(tmpdir(), 'soak-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function runSoak(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/soak.ts'), ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run soak (smoke)', () => {
  it('runs 3 nights of 2 exports with faults and worker kills, and every verdict passes', async () => {
    const res = await runSoak([
      '--nights',
      '3',
      '--exports',
      '2',
      '--warmup-nights',
      '1',
      '--minutes',
      '2',
      '--out',
      out,
    ]);
    expect(res.code, `${res.stdout}\n${res.stderr.slice(-4000)}`).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'soak-latest.json'), 'utf8')) as {
      nights: number;
      runs: number;
      byStatus: Record<string, number>;
      events: { kind: string }[];
      leftovers: { stateDirTmp: string[]; osTmp: string[] };
      verdicts: { name: string; ok: boolean }[];
    };
    expect(report).toMatchObject({ nights: 3, runs: 6, leftovers: { stateDirTmp: [], osTmp: [] } });
    expect(report.verdicts.filter((v) => !v.ok)).toEqual([]);
    expect(report.events.some((e) => e.kind === 'worker-kill')).toBe(true);
    // Night 1 delivers, and every run ended as delivered, unchanged or failed: none is left running.
    expect(report.byStatus['succeeded']).toBeGreaterThanOrEqual(1);
    expect(report.byStatus['not ended']).toBeUndefined();
    expect(res.stdout).toContain('| final states | yes |');
  }, 90_000);
});
