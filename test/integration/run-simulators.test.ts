/**
 * A full run through the real CLI against both simulators: Tableau → typed workbook with metrics → OneDrive upload.
 * Then the same data again: nothing new is uploaded (no new version), and the run says "unchanged".
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { sampleExportYaml, startSimEnv, type SimEnv } from './helpers/sim-env.js';

let sim: SimEnv;
const toArrayBuffer = (b: Buffer): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
beforeAll(async () => {
  sim = await startSimEnv({ rows: 800 });
});
afterAll(async () => sim.close());

describe('run against the simulators', () => {
  it('delivers a complete workbook to OneDrive, then skips the upload when the data is unchanged', async () => {
    const cfg = await sim.writeConfig(sampleExportYaml());
    const first = await runCli(['run', 'pipeline', '--config', cfg, '--json'], { env: sim.env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as {
      status: string;
      rows: number;
      bytes: number;
      destination: { location: string; webUrl: string; itemId: string };
    };
    expect(report.status).toBe('succeeded');
    expect(report.destination.webUrl).toMatch(/^https:\/\//);
    const stored = await sim.graph.readFile(report.destination.location);
    expect(stored?.length).toBe(report.bytes);
    const wb = new ExcelJS.Workbook();
    expect(stored).toBeDefined();
    await wb.xlsx.load(toArrayBuffer(stored!));
    expect(wb.worksheets.map((w) => w.name)).toEqual(
      expect.arrayContaining(['Summary', 'Opportunities', 'Pipeline by Stage', 'Rep Performance', 'Funnel', 'About']),
    );
    expect(wb.worksheets[0]?.name).toBe('Summary');
    expect(wb.getWorksheet('Opportunities')?.actualRowCount).toBe(801);
    expect(sim.tableau.stats.signOuts).toBe(sim.tableau.stats.signIns);

    const second = await runCli(['run', 'pipeline', '--config', cfg, '--json'], { env: sim.env });
    expect(second.code).toBe(0);
    const again = JSON.parse(second.stdout) as { status: string; destination: { itemId: string } };
    expect(again.status).toBe('unchanged');
    expect(again.destination.itemId).toBe(report.destination.itemId);
    expect(sim.graph.itemInfo(report.destination.location)?.versions).toBe(1);
  });
});
