/**
 * `npm run bench [-- --cases pipeline,wide,text] [--rows 100000] [--runs 3] [--writers ours,floor] [--profile]`
 *
 * Benchmarks the real export path (`ours`: CSV → typed rows → workbook file, as `run` does it) against the floor
 * (csv-parse + deflate-6 of our sheet XML: no writer can beat their sum) and against exceljs (in-memory, and
 * streaming used the plain way) and SheetJS, on seeded Tableau-format CSVs of the demo's Opportunities view.
 * Every measurement runs in a fresh child process (so peak RSS is honest); writers take turns run by run (so the
 * shared machine's noise falls on all of them), and the median is reported. Baselines that are impractical at
 * large sizes are capped (time and heap) and reported as "killed at cap" instead of hanging the bench.
 *
 * Prints a table and writes `bench-results/latest.json` (git-ignored). With `--profile`, `ours` also runs under
 * `node --cpu-prof` and the hottest functions are printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_CASES, CASE_LABELS, DEFAULT_CASE_ROWS, writeCaseCsv, type BenchCase } from './bench-cases.js';
import { summarizeCpuProfile } from './bench-profile.js';
import { BASELINES, isWriterName, WRITERS, type WorkerResult, type WriterName } from './bench-types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench-results');
const SEED = 42;
const AS_OF = new Date(Date.UTC(2026, 10, 27));
/** Writers known to be superlinear in time or memory: capped, and run once at large sizes. */
const CAPPED: ReadonlySet<WriterName> = new Set<WriterName>(['exceljs-memory', 'sheetjs']);
const LARGE_ROWS = 500_000;
const MiB = 1024 * 1024;

const TARGETS = {
  ratioToFloor: 1.5,
  ratioToStrictFloor: 2.0,
  peakRssMiB: 200,
  speedupOverBaseline: 2,
  fileRatioToExceljs: 1.1,
  updateRatioToReplace: 1.2,
  updatePeakRssMiB: 250,
};

interface Options {
  /** The data sets and their row counts, in the order they are measured. */
  readonly cases: readonly { readonly benchCase: BenchCase; readonly rows: number }[];
  readonly runs: number;
  readonly writers: readonly WriterName[];
  readonly capSeconds: number;
  readonly capHeapMiB: number;
  readonly profile: boolean;
}

type RunOutcome =
  | { readonly ok: true; readonly result: WorkerResult }
  | { readonly ok: false; readonly reason: string; readonly peakRssMiB: number; readonly seconds: number };

interface ResultRow {
  readonly case: BenchCase;
  readonly rows: number;
  readonly writer: WriterName;
  /** Median over the runs that finished; null when every run was killed at the cap. */
  readonly wallSeconds: number | null;
  readonly rowsPerSecond: number | null;
  /** Max over all runs (for a killed run: the last VmHWM seen). */
  readonly peakRssMiB: number;
  readonly fileMiB: number | null;
  readonly ratioToFloor: number | null;
  /** Median CPU seconds (user + system, all threads) of the work. */
  readonly cpuSeconds: number | null;
  /**
   * The strict floor: the project's own CSV parser over the file plus deflate of ours' sheet XML at ours' zip level,
   * both measured by the floor worker of the same round. wallSeconds ÷ that, paired by round.
   */
  readonly ratioToStrictFloor: number | null;
  /** Median of the strict floor's seconds (own parser + deflate at ours' level). */
  readonly strictFloorSeconds: number | null;
  /**
   * cpuSeconds ÷ the strict floor's CPU seconds, paired by round: the work done, whatever the shared machine's load
   * did to wall times (both count every thread, so deflate on the thread pool is in both).
   */
  readonly cpuRatioToStrictFloor: number | null;
  /** `ours-update`: its cpuSeconds ÷ ours' (replace mode), paired by round. */
  readonly cpuRatioToReplace: number | null;
  /** `ours-update`: its wallSeconds ÷ ours' (replace mode) in the same rounds. */
  readonly ratioToReplace: number | null;
  /** wallSeconds ÷ each baseline's wallSeconds (below 1 = faster than it). */
  readonly ratioToBaselines: Readonly<Record<string, number | null>>;
  readonly runs: readonly number[];
  readonly status: string;
  readonly timings?: Readonly<Record<string, number>>;
  readonly zipLevel?: number;
  readonly components?: WorkerResult['components'];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      cases: { type: 'string' },
      runs: { type: 'string', default: '3' },
      writers: { type: 'string' },
      'cap-seconds': { type: 'string', default: '300' },
      'cap-heap-mib': { type: 'string', default: '4096' },
      profile: { type: 'boolean', default: false },
    },
  });
  const positive = (text: string, name: string): number => {
    const n = Number(text.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    return n;
  };
  const caseNames = values.cases === undefined ? [...BENCH_CASES] : values.cases.split(',');
  const isCase = (c: string): c is BenchCase => (BENCH_CASES as readonly string[]).includes(c);
  for (const c of caseNames) if (!isCase(c)) throw new Error(`unknown case "${c}"; cases: ${BENCH_CASES.join(', ')}`);
  const rowsOption = values.rows?.split(',').map((r) => positive(r, 'rows'));
  const cases = caseNames
    .filter(isCase)
    .flatMap((benchCase) => (rowsOption ?? DEFAULT_CASE_ROWS[benchCase]).map((rows) => ({ benchCase, rows })));
  const writers = values.writers === undefined ? [...WRITERS] : values.writers.split(',');
  for (const w of writers)
    if (!isWriterName(w)) throw new Error(`unknown writer "${w}"; writers: ${WRITERS.join(', ')}`);
  const chosen = writers.filter(isWriterName);
  // The floor deflates the sheet XML ours wrote, so ours always runs with it.
  if ((chosen.includes('floor') || chosen.includes('ours-update')) && !chosen.includes('ours')) chosen.unshift('ours');
  return {
    cases,
    runs: positive(values.runs, 'runs'),
    writers: chosen,
    capSeconds: positive(values['cap-seconds'], 'cap-seconds'),
    capHeapMiB: positive(values['cap-heap-mib'], 'cap-heap-mib'),
    profile: values.profile,
  };
}

/** The command line (after `node`) that runs a writer's worker with its arguments. */
type WorkerCommand = (writer: WriterName, args: WorkerArgs) => string[];

interface WorkerArgs {
  readonly csv: string;
  /** `ours-update`: the team's workbook to refresh (what ours wrote from the same CSV). */
  readonly team: string;
  readonly out: string;
  readonly work: string;
  readonly sheetXml: string;
  /** The zip level ours ran with (the floor also deflates at it, for comparison). */
  readonly zipLevel: number;
}

const WORKER_FILES: Readonly<Record<WriterName, string>> = {
  ours: 'bench-ours',
  'ours-update': 'bench-ours-update',
  floor: 'bench-floor',
  'exceljs-memory': 'bench-baseline',
  'exceljs-stream-plain': 'bench-baseline',
  sheetjs: 'bench-baseline',
};

function workerArgs(writer: WriterName, a: WorkerArgs): string[] {
  if (writer === 'ours') return ['--csv', a.csv, '--out', a.out, '--work', a.work];
  if (writer === 'ours-update') return ['--csv', a.csv, '--team', a.team, '--out', a.out, '--work', a.work];
  if (writer === 'floor') return ['--csv', a.csv, '--sheet-xml', a.sheetXml, '--zip-level', String(a.zipLevel)];
  return ['--writer', writer, '--csv', a.csv, '--out', a.out];
}

/** Runs the TypeScript worker through tsx (for profiles: their URLs then name the project's source files). */
const tsxWorker: WorkerCommand = (writer, args) => [
  '--import',
  'tsx',
  join(ROOT, 'scripts', `${WORKER_FILES[writer]}.ts`),
  ...workerArgs(writer, args),
];

/**
 * How to start workers: bundles made with esbuild (tsx's own dependency) and run by plain `node`, so the measured
 * RSS holds no TypeScript loader (tsx adds ≈ 40 MiB); `node --import tsx` when esbuild is missing.
 */
async function prepareWorkers(): Promise<{ readonly command: WorkerCommand; readonly note: string }> {
  try {
    const esbuild = await import('esbuild');
    // Inside the project: the bundles import packages by name, resolved from the project's node_modules.
    const outdir = join(RESULTS_DIR, '.worker');
    const entryPoints = [...new Set(Object.values(WORKER_FILES))].map((f) => join(ROOT, 'scripts', `${f}.ts`));
    await esbuild.build({
      entryPoints,
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'error',
    });
    return {
      command: (writer, args) => [join(outdir, `${WORKER_FILES[writer]}.mjs`), ...workerArgs(writer, args)],
      note: 'workers: esbuild bundles run by plain node (one per writer, loading only that writer)',
    };
  } catch (err) {
    return {
      command: tsxWorker,
      note: `workers: node --import tsx (esbuild unavailable: ${String(err)}); RSS includes ≈ 40 MiB of loader`,
    };
  }
}

/** Peak RSS of a running process so far, from Linux's /proc (undefined elsewhere or once it has exited). */
function readVmHwmMiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Runs one worker process; kills it at the time cap; its heap is capped by --max-old-space-size. */
async function runWorker(
  writer: WriterName,
  commandLine: readonly string[],
  options: Options,
  extraNodeArgs: readonly string[] = [],
): Promise<RunOutcome> {
  const capped = CAPPED.has(writer);
  const nodeArgs = [
    ...extraNodeArgs,
    ...(capped ? [`--max-old-space-size=${options.capHeapMiB}`] : []),
    ...commandLine,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(-20_000)));
  let peak = 0;
  let killedForTime = false;
  const poll = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, readVmHwmMiB(child.pid) ?? 0);
  }, 500);
  const timer = capped
    ? setTimeout(() => {
        killedForTime = true;
        child.kill('SIGKILL');
      }, options.capSeconds * 1000)
    : undefined;
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearInterval(poll);
  if (timer !== undefined) clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  if (killedForTime) return { ok: false, reason: `killed at cap (${options.capSeconds} s)`, peakRssMiB: peak, seconds };
  if (code !== 0) {
    const outOfMemory = /heap out of memory|Allocation failed/i.test(stderr);
    if (capped && outOfMemory)
      return { ok: false, reason: `killed at cap (${options.capHeapMiB} MiB heap)`, peakRssMiB: peak, seconds };
    throw new Error(`${writer} failed (exit ${code}):\n${stderr.trim()}`);
  }
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line) as WorkerResult;
  return { ok: true, result };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function extractSheetXml(xlsx: string, out: string): void {
  // The data sheet is the first sheet the run adds (metrics and About come after it).
  const fd = openSync(out, 'w');
  try {
    const unzip = spawnSync('unzip', ['-p', xlsx, 'xl/worksheets/sheet1.xml'], { stdio: ['ignore', fd, 'pipe'] });
    if (unzip.error !== undefined || unzip.status !== 0) {
      throw new Error(
        `cannot extract the sheet XML from ${xlsx} with \`unzip\` (${String(unzip.error ?? unzip.stderr)}); install unzip`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

async function benchSize(
  benchCase: BenchCase,
  rows: number,
  options: Options,
  command: WorkerCommand,
  work: string,
): Promise<ResultRow[]> {
  const csv = join(work, `${benchCase}-${rows}-seed${SEED}.csv`);
  process.stdout.write(
    `\n${benchCase} (${CASE_LABELS[benchCase]}), ${rows.toLocaleString('en-US')} rows: generating ${csv} ...`,
  );
  await writeCaseCsv(benchCase, rows, csv, SEED, AS_OF);
  process.stdout.write(' done\n');

  const outcomes = new Map<WriterName, (RunOutcome | undefined)[]>(options.writers.map((w) => [w, []]));
  const sheetXml = join(work, `sheet-${rows}.xml`);
  const team = join(work, `team-${rows}.xlsx`);
  let oursZipLevel = 6;
  for (let run = 1; run <= options.runs; run += 1) {
    for (const writer of options.writers) {
      // Indexed by run, so each run can be paired with the other writers' runs of the same round.
      const previous = outcomes.get(writer) ?? [];
      // Capped baselines: once killed at a size, not again; at large sizes, one run is enough to show the trend.
      if (
        CAPPED.has(writer) &&
        (previous.some((o) => o?.ok === false) || (rows >= LARGE_ROWS && previous.some((o) => o !== undefined)))
      ) {
        previous.push(undefined);
        continue;
      }
      const out = join(work, 'out', `${writer}-${rows}-${run}.xlsx`);
      await mkdir(dirname(out), { recursive: true });
      const outcome = await runWorker(
        writer,
        command(writer, { csv, team, out, work: join(work, `w-${writer}-${run}`), sheetXml, zipLevel: oursZipLevel }),
        options,
      );
      previous.push(outcome);
      outcomes.set(writer, previous);
      if (outcome.ok) {
        const r = outcome.result;
        const extra = r.timings === undefined ? '' : ` timings ${JSON.stringify(r.timings)}`;
        const cpu = r.cpuSeconds === undefined ? '' : ` (CPU ${r.cpuSeconds.toFixed(2)} s)`;
        process.stdout.write(
          `  run ${run} ${writer}: ${r.wallSeconds.toFixed(2)} s${cpu}, ${r.maxRssMiB.toFixed(0)} MiB, ${(r.fileBytes / MiB).toFixed(1)} MiB${extra}\n`,
        );
        if (writer === 'ours' && !existsSync(sheetXml)) extractSheetXml(out, sheetXml);
        if (writer === 'ours' && !existsSync(team)) await copyFile(out, team);
        if (r.zipLevel !== undefined) oursZipLevel = r.zipLevel;
      } else {
        process.stdout.write(
          `  run ${run} ${writer}: ${outcome.reason} after ${outcome.seconds.toFixed(0)} s (peak ${outcome.peakRssMiB.toFixed(0)} MiB)\n`,
        );
      }
      await rm(out, { force: true });
      await rm(join(work, `w-${writer}-${run}`), { recursive: true, force: true });
    }
  }
  if (options.profile && options.writers.includes('ours')) {
    // One more run of ours, not measured: under the profiler and through tsx, so frames name the source files.
    const dir = join(RESULTS_DIR, 'profiles', `ours-${benchCase}-${rows}`);
    await rm(dir, { recursive: true, force: true });
    const out = join(work, 'out', `ours-${rows}-profile.xlsx`);
    const outcome = await runWorker(
      'ours',
      tsxWorker('ours', { csv, team, out, work: join(work, 'w-profile'), sheetXml, zipLevel: oursZipLevel }),
      options,
      ['--cpu-prof', '--cpu-prof-dir', dir],
    );
    // One profile per thread (tsx's loader runs in a worker thread): the main thread's is `CPU.<date>.<pid>.0.<n>`.
    const file = (await readdir(dir)).find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
    if (outcome.ok && file !== undefined) {
      const summary = summarizeCpuProfile(JSON.parse(await readFile(join(dir, file), 'utf8')) as unknown);
      process.stdout.write(
        `\nCPU profile of ours at ${rows.toLocaleString('en-US')} rows (${join(dir, file)}; run took ${outcome.result.wallSeconds.toFixed(2)} s under the profiler):\n${summary}\n\n`,
      );
    }
    await rm(out, { force: true });
  }
  await rm(csv, { force: true });
  await rm(sheetXml, { force: true });
  await rm(team, { force: true });
  return summarize(benchCase, rows, options.writers, outcomes);
}

/**
 * Medians per writer. Ratios between writers are medians of per-round ratios (run i of one ÷ run i of the other):
 * the runs of a round are minutes apart at most, so the shared machine's load changes less within a pair than
 * across the whole bench.
 */
function summarize(
  benchCase: BenchCase,
  rows: number,
  writers: readonly WriterName[],
  outcomes: ReadonlyMap<WriterName, readonly (RunOutcome | undefined)[]>,
): ResultRow[] {
  const finished = (w: WriterName): (WorkerResult | undefined)[] =>
    (outcomes.get(w) ?? []).map((o) => (o?.ok === true ? o.result : undefined));
  const pairedRatio = (a: WriterName, b: WriterName): number | null => {
    const bs = finished(b);
    const ratios = finished(a).flatMap((x, i) => {
      const y = bs[i];
      return x === undefined || y === undefined ? [] : [x.wallSeconds / y.wallSeconds];
    });
    return median(ratios);
  };
  const strictFloors = finished('floor').map((f) =>
    f?.components === undefined ? undefined : f.components.ourParseSeconds + f.components.deflateAtOursLevelSeconds,
  );
  const cpuRatio = (a: WriterName, of: (i: number) => number | undefined): number | null =>
    median(
      finished(a).flatMap((x, i) => {
        const y = of(i);
        return x?.cpuSeconds === undefined || y === undefined || y <= 0 ? [] : [x.cpuSeconds / y];
      }),
    );
  const floorCpu = (i: number): number | undefined => finished('floor')[i]?.components?.strictFloorCpuSeconds;
  const replaceCpu = (i: number): number | undefined => finished('ours')[i]?.cpuSeconds;
  const strictRatio = (a: WriterName): number | null =>
    median(
      finished(a).flatMap((x, i) => {
        const floor = strictFloors[i];
        return x === undefined || floor === undefined ? [] : [x.wallSeconds / floor];
      }),
    );
  return writers.map((writer) => {
    const all = (outcomes.get(writer) ?? []).filter((o): o is RunOutcome => o !== undefined);
    const done = all.flatMap((o) => (o.ok ? [o.result] : []));
    const killed = all.flatMap((o) => (o.ok ? [] : [o]));
    const wall = median(done.map((r) => r.wallSeconds));
    const last = done.at(-1);
    const peak = Math.max(0, ...done.map((r) => r.maxRssMiB), ...killed.map((k) => k.peakRssMiB));
    return {
      case: benchCase,
      rows,
      writer,
      wallSeconds: wall,
      rowsPerSecond: wall === null ? null : rows / wall,
      peakRssMiB: peak,
      fileMiB: last === undefined ? null : last.fileBytes / MiB,
      ratioToFloor: writers.includes('floor') ? pairedRatio(writer, 'floor') : null,
      cpuSeconds: median(done.flatMap((r) => (r.cpuSeconds === undefined ? [] : [r.cpuSeconds]))),
      ratioToStrictFloor: writers.includes('floor') ? strictRatio(writer) : null,
      strictFloorSeconds: median(strictFloors.flatMap((f) => (f === undefined ? [] : [f]))),
      cpuRatioToStrictFloor: writers.includes('floor') && writer !== 'floor' ? cpuRatio(writer, floorCpu) : null,
      cpuRatioToReplace: writer === 'ours-update' && writers.includes('ours') ? cpuRatio(writer, replaceCpu) : null,
      ratioToReplace: writer === 'ours-update' && writers.includes('ours') ? pairedRatio(writer, 'ours') : null,
      ratioToBaselines: Object.fromEntries(
        BASELINES.filter((w) => writers.includes(w)).map((w) => [w, pairedRatio(writer, w)]),
      ),
      runs: done.map((r) => r.wallSeconds),
      status: killed.length > 0 && done.length === 0 ? (killed[0]?.reason ?? 'killed') : 'ok',
      ...(last?.timings === undefined ? {} : { timings: medianTimings(done) }),
      ...(last?.zipLevel === undefined ? {} : { zipLevel: last.zipLevel }),
      ...(last?.components === undefined ? {} : { components: medianComponents(done) }),
    };
  });
}

function medianComponents(results: readonly WorkerResult[]): WorkerResult['components'] {
  const of = (pick: (c: NonNullable<WorkerResult['components']>) => number): number =>
    median(results.flatMap((r) => (r.components === undefined ? [] : [pick(r.components)]))) ?? 0;
  return {
    csvParseSeconds: of((c) => c.csvParseSeconds),
    deflateSeconds: of((c) => c.deflateSeconds),
    ourParseSeconds: of((c) => c.ourParseSeconds),
    deflateAtOursLevelSeconds: of((c) => c.deflateAtOursLevelSeconds),
    strictFloorCpuSeconds: of((c) => c.strictFloorCpuSeconds ?? 0),
    oursZipLevel: of((c) => c.oursZipLevel),
  };
}

function medianTimings(results: readonly WorkerResult[]): Record<string, number> {
  const keys = [...new Set(results.flatMap((r) => Object.keys(r.timings ?? {})))];
  return Object.fromEntries(keys.map((k) => [k, median(results.map((r) => r.timings?.[k] ?? 0)) ?? 0]));
}

function fmt(value: number | null, digits: number, suffix = ''): string {
  return value === null ? '—' : `${value.toFixed(digits)}${suffix}`;
}

function formatTable(results: readonly ResultRow[]): string {
  const baselines = BASELINES.filter((w) => results.some((r) => r.writer === w));
  const head = [
    'case',
    'rows',
    'writer',
    'wall s',
    'CPU s',
    'rows/s',
    'peak RSS MiB',
    'file MiB',
    '× floor',
    '× strict floor',
    'CPU × strict floor',
    ...baselines.map((w) => `× ${w}`),
    'status',
  ];
  const body = results.map((r) => [
    r.case,
    r.rows.toLocaleString('en-US'),
    r.writer,
    fmt(r.wallSeconds, 2),
    fmt(r.cpuSeconds, 2),
    r.rowsPerSecond === null ? '—' : Math.round(r.rowsPerSecond).toLocaleString('en-US'),
    fmt(r.peakRssMiB, 0),
    fmt(r.fileMiB, 1),
    fmt(r.ratioToFloor, 2),
    fmt(r.ratioToStrictFloor, 2),
    fmt(r.cpuRatioToStrictFloor, 2),
    ...baselines.map((w) => fmt(r.ratioToBaselines[w] ?? null, 2)),
    r.status,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i < 3 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (i < 3 || i === widths.length - 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

/** The issue's targets, reported (never asserted): each line says met or missed, with the numbers. */
function formatTargets(results: readonly ResultRow[]): string {
  const lines: string[] = [];
  const runs = [...new Map(results.map((r) => [`${r.case} ${r.rows}`, r])).values()];
  for (const { case: benchCase, rows } of runs) {
    const at = (w: WriterName): ResultRow | undefined =>
      results.find((r) => r.case === benchCase && r.rows === rows && r.writer === w);
    const ours = at('ours');
    if (ours?.wallSeconds == null) continue;
    const tag = (ok: boolean): string => (ok ? 'met   ' : 'MISSED');
    const n = `${benchCase} ${rows.toLocaleString('en-US')}`;
    if (ours.ratioToFloor !== null)
      lines.push(
        `${tag(ours.ratioToFloor <= TARGETS.ratioToFloor)} ${n}: ours within ${TARGETS.ratioToFloor}× of the floor — ${ours.ratioToFloor.toFixed(2)}×`,
      );
    if (ours.ratioToStrictFloor !== null && ours.strictFloorSeconds !== null)
      lines.push(
        `${tag(ours.ratioToStrictFloor <= TARGETS.ratioToStrictFloor)} ${n}: ours within ${TARGETS.ratioToStrictFloor}× of the strict floor (own parser + deflate at our level, ${ours.strictFloorSeconds.toFixed(2)} s) — ${ours.ratioToStrictFloor.toFixed(2)}× wall, ${ours.cpuRatioToStrictFloor?.toFixed(2) ?? '?'}× CPU (ours ${ours.wallSeconds.toFixed(2)} s wall, ${ours.cpuSeconds?.toFixed(2) ?? '?'} s CPU)`,
      );
    lines.push(
      `${tag(ours.peakRssMiB < TARGETS.peakRssMiB)} ${n}: ours peak RSS under ${TARGETS.peakRssMiB} MiB — ${ours.peakRssMiB.toFixed(0)} MiB`,
    );
    for (const w of ['exceljs-stream-plain', 'sheetjs'] as const) {
      const b = at(w);
      if (b === undefined) continue;
      if (b.wallSeconds === null) {
        lines.push(
          `met    ${n}: ours ≥ ${TARGETS.speedupOverBaseline}× faster than ${w} — ${w} ${b.status}, ours ${ours.wallSeconds.toFixed(1)} s`,
        );
      } else {
        const paired = ours.ratioToBaselines[w] ?? null;
        const speedup = paired === null ? b.wallSeconds / ours.wallSeconds : 1 / paired;
        lines.push(
          `${tag(speedup >= TARGETS.speedupOverBaseline)} ${n}: ours ≥ ${TARGETS.speedupOverBaseline}× faster than ${w} — ${speedup.toFixed(2)}×`,
        );
      }
    }
    const update = at('ours-update');
    if (update?.ratioToReplace != null) {
      lines.push(
        `${tag(update.ratioToReplace <= TARGETS.updateRatioToReplace)} ${n}: update mode within ${TARGETS.updateRatioToReplace}× of replace mode — ${update.ratioToReplace.toFixed(2)}× wall, ${update.cpuRatioToReplace?.toFixed(2) ?? '?'}× CPU`,
        `${tag(update.peakRssMiB < TARGETS.updatePeakRssMiB)} ${n}: update mode peak RSS under ${TARGETS.updatePeakRssMiB} MiB — ${update.peakRssMiB.toFixed(0)} MiB (the team's workbook ${update.fileMiB?.toFixed(1) ?? '?'} MiB)`,
      );
    }
    const plain = at('exceljs-stream-plain');
    if (plain?.fileMiB != null && ours.fileMiB !== null) {
      const r = ours.fileMiB / plain.fileMiB;
      lines.push(
        `${tag(r <= TARGETS.fileRatioToExceljs)} ${n}: file within ${TARGETS.fileRatioToExceljs}× of exceljs's default — ${r.toFixed(2)}× (${ours.fileMiB.toFixed(1)} vs ${plain.fileMiB.toFixed(1)} MiB)`,
      );
    }
  }
  const ours = results.filter((r) => r.writer === 'ours' && r.case === 'pipeline');
  if (ours.length > 1) {
    const [small, large] = [ours[0], ours.at(-1)];
    if (small !== undefined && large !== undefined) {
      const flat = large.peakRssMiB <= small.peakRssMiB * 1.25;
      lines.push(
        `${flat ? 'met   ' : 'MISSED'} peak RSS flat in the row count — ${small.peakRssMiB.toFixed(0)} MiB at ${small.rows.toLocaleString('en-US')}, ${large.peakRssMiB.toFixed(0)} MiB at ${large.rows.toLocaleString('en-US')}`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  await mkdir(RESULTS_DIR, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'tableau-export-bench-'));
  try {
    const worker = await prepareWorkers();
    const cpuList = cpus();
    const machine = {
      cpuModel: cpuList[0]?.model ?? 'unknown',
      cpus: cpuList.length,
      totalMemMiB: Math.round(totalmem() / MiB),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
    };
    process.stdout.write(
      `machine: ${machine.cpuModel} × ${machine.cpus}, ${machine.totalMemMiB} MiB, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}\n${worker.note}\n`,
    );
    process.stdout.write(
      `writers: ${options.writers.join(', ')}; ${options.runs} run(s) each (capped baselines: 1 at ≥ ${LARGE_ROWS.toLocaleString('en-US')} rows; caps ${options.capSeconds} s, ${options.capHeapMiB} MiB heap)\n`,
    );

    const results: ResultRow[] = [];
    for (const { benchCase, rows } of options.cases)
      results.push(...(await benchSize(benchCase, rows, options, worker.command, work)));

    const zipLevel = results.find((r) => r.zipLevel !== undefined)?.zipLevel;
    process.stdout.write(`\n${formatTable(results)}\n\n`);
    process.stdout.write(
      `ours: the real run path (runExport, CSV source, local destination), zipLevel ${zipLevel ?? '?'} (the configuration's default); × = wall time ÷ that writer's wall time\n`,
    );
    for (const r of results) {
      if (r.timings !== undefined)
        process.stdout.write(
          `${r.writer} ${r.case} ${r.rows.toLocaleString('en-US')} rows, run report timings (median ms): ${JSON.stringify(r.timings)}\n`,
        );
      if (r.components !== undefined) {
        const c = r.components;
        const ours = results.find((o) => o.case === r.case && o.rows === r.rows && o.writer === 'ours');
        const own = c.ourParseSeconds + c.deflateAtOursLevelSeconds;
        process.stdout.write(
          `floor ${r.case} ${r.rows.toLocaleString('en-US')} rows: csv-parse ${c.csvParseSeconds.toFixed(2)} s + deflate-6 ${c.deflateSeconds.toFixed(2)} s. ` +
            `With our parser (${c.ourParseSeconds.toFixed(2)} s) and our zip level ${c.oursZipLevel} (${c.deflateAtOursLevelSeconds.toFixed(2)} s) it would be ${own.toFixed(2)} s (the strict floor)` +
            `${ours?.wallSeconds == null ? '' : `; ours is ${(ours.wallSeconds / own).toFixed(2)}× that (median of paired rounds: ${ours.ratioToStrictFloor?.toFixed(2) ?? '?'}×)`}\n`,
        );
      }
    }
    process.stdout.write(`\ntargets (reported, not asserted):\n${formatTargets(results)}\n`);

    const latest = join(RESULTS_DIR, 'latest.json');
    await writeFile(
      latest,
      `${JSON.stringify({ machine, workers: worker.note, seed: SEED, zipLevel, runsPerWriter: options.runs, results }, null, 2)}\n`,
    );
    process.stdout.write(`\nwrote ${latest}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
