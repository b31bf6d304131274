/**
 * Update mode against both simulators through the real CLI: the team's workbook (made by LibreOffice) is downloaded
 * through Graph's 302 without the bearer token reaching the download URL, patched, and written with If-Match; a
 * teammate who saves between our download and our upload gets a 412 for us and a retry that keeps their change; a
 * workbook locked in Excel for longer than `onLocked.retryFor` fails the run and stays byte for byte.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOneDriveDestination } from '../../src/destinations/onedrive/index.js';
import { realSleep, systemClock } from '../../src/shared/clock.js';
import { createSilentLogger } from '../../src/shared/logger.js';
import { createRedactor } from '../../src/shared/redact.js';
import { runCli } from './helpers/cli.js';
import { SIM_CLIENT, SIM_USER, startSimEnv, type SimEnv } from './helpers/sim-env.js';

const TEAM = new URL('../fixtures/team/team.xlsx', import.meta.url);
let sim: SimEnv;
let scratch: string;

beforeAll(async () => {
  sim = await startSimEnv({ rows: 300 });
  scratch = await mkdtemp(join(tmpdir(), 'tee-update-od-'));
});
afterAll(async () => {
  await sim?.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Puts `bytes` at `path` in the simulated OneDrive, as a teammate's upload would. */
async function seed(path: string, bytes: Buffer): Promise<void> {
  const file = join(scratch, `seed-${Date.now()}.xlsx`);
  await writeFile(file, bytes);
  const destination = createOneDriveDestination(
    {
      tenantId: SIM_CLIENT.tenantId,
      clientId: SIM_CLIENT.clientId,
      credential: { clientSecret: SIM_CLIENT.secret },
      authorityHost: sim.graph.authorityHost,
      graphBaseUrl: sim.graph.graphBaseUrl,
      caFile: sim.graph.caFile,
      drive: { user: SIM_USER },
      path,
    },
    { logger: createSilentLogger(), redactor: createRedactor(), clock: systemClock, sleep: realSleep },
  );
  await destination.deliver(
    { path: file, bytes: bytes.length, suggestedName: 'x.xlsx' },
    { logger: createSilentLogger(), signal: new AbortController().signal, runStartedAt: new Date(), timezone: 'UTC' },
  );
}

function exportYaml(path: string, onLocked = '{ retryFor: 2s, then: fail }'): string {
  return `  - id: team
    views:
      - { workbook: Sales Pipeline, view: Opportunities, sheet: Opportunities }
    metrics: { from: Opportunities }
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: ${path}
      mode: update
      onLocked: ${onLocked}
`;
}

/** The team workbook with one more line on the Team notes sheet: a teammate's save. */
async function withTeammateLine(bytes: Buffer, text: string): Promise<Buffer> {
  const zip = await JSZip.loadAsync(bytes);
  const workbook = (await zip.file('xl/workbook.xml')?.async('string')) ?? '';
  const rels = (await zip.file('xl/_rels/workbook.xml.rels')?.async('string')) ?? '';
  const rId = /<sheet [^>]*name="Team notes"[^>]*r:id="(rId\d+)"/.exec(workbook)?.[1] ?? '';
  const target = new RegExp(`Id="${rId}"[^>]*Target="([^"]+)"`).exec(rels)?.[1] ?? '';
  const part = `xl/${target}`;
  const xml = (await zip.file(part)?.async('string')) ?? '';
  zip.file(
    part,
    xml.replace('</sheetData>', `<row r="40"><c r="A40" t="inlineStr"><is><t>${text}</t></is></c></row></sheetData>`),
  );
  return zip.generateAsync({ type: 'nodebuffer' });
}

describe('update mode against the Graph simulator', () => {
  it('downloads without the token on the download URL, and retries after a teammate save, keeping it', async () => {
    const path = 'Reports/Team.xlsx';
    const original = await readFile(TEAM);
    await seed(path, original);
    const teammate = await withTeammateLine(original, 'saved by Ana while the export ran');
    sim.graph.faults.teammateSavesBeforeNextUpload(`${SIM_USER}/${path}`, teammate);
    const config = await sim.writeConfig(exportYaml(path));
    const res = await runCli(['run', 'team', '--config', config, '--json'], { env: sim.env });
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as {
      status: string;
      update?: { conflicts: number; tables: { teammateColumns: string[] }[] };
    };
    expect(report.status).toBe('succeeded');
    expect(report.update?.conflicts).toBe(1);
    expect(report.update?.tables[0]?.teammateColumns).toEqual(['Next step']);
    expect(sim.graph.stats.authorizationOnDownloadUrl).toBe(0);

    const stored = await sim.graph.readFile(`${SIM_USER}/${path}`);
    const zip = await JSZip.loadAsync(stored ?? Buffer.alloc(0));
    const texts = await Promise.all(
      Object.values(zip.files)
        .filter((f) => /worksheets\/sheet\d+\.xml$/.test(f.name))
        .map((f) => f.async('string')),
    );
    // The teammate's line survived our refresh, which went into their version.
    expect(texts.some((t) => t.includes('saved by Ana while the export ran'))).toBe(true);
    const tables = Object.keys(zip.files).filter((n) => n.startsWith('xl/tables/'));
    const tableXml = await Promise.all(tables.map((n) => zip.file(n)?.async('string') ?? Promise.resolve('')));
    expect(tableXml.some((t) => /name="Opportunities"[^>]*ref="A1:Q301"/.test(t ?? ''))).toBe(true);
  });

  it('fails a workbook locked for longer than onLocked.retryFor and leaves it byte for byte', async () => {
    const path = 'Reports/Locked Team.xlsx';
    await seed(path, await readFile(TEAM));
    const before = await sim.graph.readFile(`${SIM_USER}/${path}`);
    sim.graph.faults.lock(path, { forMs: 60_000 });
    const config = await sim.writeConfig(exportYaml(path, '{ retryFor: 1s, then: fail }'));
    const res = await runCli(['run', 'team', '--config', config], { env: sim.env });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/ONEDRIVE_LOCKED/);
    const after = await sim.graph.readFile(`${SIM_USER}/${path}`);
    expect(after?.equals(before ?? Buffer.alloc(1))).toBe(true);
    sim.graph.faults.clear();
  });
});
