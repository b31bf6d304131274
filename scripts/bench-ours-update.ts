/**
 * Benchmark worker `ours-update`: the real `run` path in update mode — the same CSV refreshed into the team's
 * workbook (`--team`, the workbook `ours` wrote from it at this size: a table of as many rows, 100 MB at 1M rows),
 * delivered to a local folder. Prints one JSON line (see WorkerResult) with the run's stage timings.
 *
 * `bench-ours-update --csv FILE --team FILE.xlsx --out FILE.xlsx --work DIR`
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseConfigText } from '../src/config/load.js';
import { createLocalDestination } from '../src/destinations/local/local-destination.js';
import { runExport } from '../src/pipeline/run-export.js';
import { systemClock } from '../src/shared/clock.js';
import { createSilentLogger } from '../src/shared/logger.js';
import { createRedactor } from '../src/shared/redact.js';
import { createCsvSource } from '../src/sources/csv/csv-source.js';
import {
  maxRssMiB,
  requiredArg,
  runWorkerMain,
  secondsSince,
  cpuSecondsSince,
  type WorkerResult,
} from './bench-types.js';

const USAGE = 'bench-ours-update --csv FILE --team FILE.xlsx --out FILE.xlsx --work DIR';

async function measureUpdate(): Promise<WorkerResult> {
  const csv = requiredArg('csv', USAGE);
  const team = requiredArg('team', USAGE);
  const out = requiredArg('out', USAGE);
  const work = requiredArg('work', USAGE);
  await mkdir(dirname(out), { recursive: true });
  await copyFile(team, out);
  const text = JSON.stringify({
    stateDir: join(work, 'state'),
    exports: [
      {
        id: 'bench',
        views: [{ file: csv, sheet: 'Opportunities' }],
        destination: { type: 'local', dir: dirname(out), fileName: basename(out), mode: 'update' },
      },
    ],
  });
  const loaded = parseConfigText(text, join(work, 'bench.yaml'));
  const exp = loaded.config.exports[0];
  if (exp === undefined || exp.destination.type !== 'local')
    throw new Error('the bench configuration did not parse as one local export');
  const tempDir = join(work, 'tmp');
  await mkdir(tempDir, { recursive: true });
  const destination = createLocalDestination({ dir: exp.destination.dir, fileName: basename(out), mode: 'update' });
  const csvSource = createCsvSource({ baseDir: loaded.baseDir });

  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const report = await runExport(
    { exportConfig: exp, timezone: 'UTC', runId: `bench-${process.pid}`, trigger: { kind: 'cli' } },
    {
      sourceFor: () => csvSource,
      destination,
      logger: createSilentLogger(),
      clock: systemClock,
      redactor: createRedactor(),
      tempDir,
      toolVersion: 'bench',
    },
  );
  const wallSeconds = secondsSince(start);
  const cpuSeconds = cpuSecondsSince(cpuStart);
  if (report.status !== 'succeeded' || report.update === undefined || report.update.created)
    throw new Error(`update run ${report.status}: ${report.error?.code ?? ''} ${report.error?.message ?? ''}`);
  return {
    writer: 'ours-update',
    wallSeconds,
    cpuSeconds,
    maxRssMiB: maxRssMiB(),
    fileBytes: (await stat(out)).size,
    timings: report.timings,
    zipLevel: exp.zipLevel,
  };
}

runWorkerMain(measureUpdate);
