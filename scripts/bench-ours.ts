/**
 * Benchmark worker `ours`: the real `run` path in a fresh process — config text → `runExport` with the CSV source
 * and the local destination, exactly as `tableau-export run` wires them (no store: history is not what is measured).
 *
 * `bench-ours --csv FILE --out FILE.xlsx --work DIR` prints one JSON line (see WorkerResult), with the run report's
 * stage timings and the zip level the configuration gave the run.
 */
import { mkdir, stat } from 'node:fs/promises';
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

const USAGE = 'bench-ours --csv FILE --out FILE.xlsx --work DIR';

async function measureOurs(): Promise<WorkerResult> {
  const csv = requiredArg('csv', USAGE);
  const out = requiredArg('out', USAGE);
  const work = requiredArg('work', USAGE);
  // JSON is YAML: the same text `run` would load from a file. zipLevel is left to the configuration's default.
  const text = JSON.stringify({
    stateDir: join(work, 'state'),
    exports: [
      {
        id: 'bench',
        views: [{ file: csv, sheet: 'Opportunities' }],
        destination: { type: 'local', dir: dirname(out), fileName: basename(out) },
      },
    ],
  });
  const loaded = parseConfigText(text, join(work, 'bench.yaml'));
  const exp = loaded.config.exports[0];
  if (exp === undefined || exp.destination.type !== 'local')
    throw new Error('the bench configuration did not parse as one local export');
  const csvSource = createCsvSource({ baseDir: loaded.baseDir });
  const tempDir = join(work, 'tmp');
  await mkdir(tempDir, { recursive: true });
  const destination = createLocalDestination({
    dir: exp.destination.dir,
    fileName: exp.destination.fileName ?? `${exp.id}.xlsx`,
  });

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
  if (report.status !== 'succeeded')
    throw new Error(`run ${report.status}: ${report.error?.code ?? ''} ${report.error?.message ?? ''}`);
  return {
    writer: 'ours',
    wallSeconds,
    cpuSeconds,
    maxRssMiB: maxRssMiB(),
    fileBytes: (await stat(out)).size,
    timings: report.timings,
    zipLevel: exp.zipLevel,
  };
}

runWorkerMain(measureOurs);
