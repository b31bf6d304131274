/**
 * The workbook the team starts from: written by our own CLI (`tableau-export run`, CSV source, local destination)
 * from the demo's seeded pipeline, exactly as a replace-mode export delivers it (the `Opportunities` table, the metric
 * sheets and About). `scripts/make-team-workbook.py` then turns it into the team's workbook.
 */
import { copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  generatePipelineRows,
  PIPELINE_HEADER,
  writeTableauCsvFile,
} from '../../src/simulators/demo-data/pipeline-generator.js';
import { runCli } from '../integration/helpers/cli.js';

export interface BaseWorkbookOptions {
  /** Opportunities to generate (OPP-000001 … in order). */
  readonly rows: number;
  /** Seed of the demo generator: the test fixtures use 42, the demo 20261127. */
  readonly seed: number;
  /** The data set's "today" (UTC date), also the metrics' asOf, so the metric sheets do not depend on the run date. */
  readonly asOf: Date;
  /** The workbook to write (.xlsx). */
  readonly out: string;
  /** Where to write the CSV the workbook is made from (kept: update-mode tests edit it and run again). */
  readonly csv: string;
}

/**
 * Generates the pipeline CSV and runs `tableau-export run` on it in a child process (the CLI as a user runs it),
 * with a throw-away state folder. Throws with the CLI's stderr when the run does not succeed.
 */
export async function makeBaseWorkbook(options: BaseWorkbookOptions): Promise<{ xlsx: string; csv: string }> {
  const work = await mkdtemp(join(tmpdir(), 'tee-base-wb-'));
  try {
    const csv = resolve(options.csv);
    await mkdir(dirname(csv), { recursive: true });
    await writeTableauCsvFile(
      csv,
      PIPELINE_HEADER,
      generatePipelineRows({ seed: options.seed, count: options.rows, asOf: options.asOf }),
    );
    const asOf = options.asOf.toISOString().slice(0, 10);
    const config = join(work, 'base.yaml');
    await writeFile(
      config,
      [
        'timezone: UTC',
        'stateDir: ./state',
        'exports:',
        '  - id: team-base',
        '    timezone: America/New_York',
        '    views:',
        `      - { file: ${JSON.stringify(csv)}, sheet: Opportunities }`,
        `    metrics: { from: Opportunities, asOf: "${asOf}" }`,
        '    destination: { type: local, dir: ./out, fileName: base.xlsx }',
        '',
      ].join('\n'),
    );
    const res = await runCli(['run', 'team-base', '--config', config, '--json']);
    if (res.code !== 0) {
      throw new Error(`tableau-export run failed (exit ${res.code}) making the base workbook: ${res.stderr.trim()}`);
    }
    const xlsx = resolve(options.out);
    await mkdir(dirname(xlsx), { recursive: true });
    await copyFile(join(work, 'out', 'base.xlsx'), xlsx);
    return { xlsx, csv };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
