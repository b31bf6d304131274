/** What the benchmark's parent (`bench.ts`) and its worker processes (`bench-worker.ts`) exchange. */

export const WRITERS = ['ours', 'ours-update', 'floor', 'exceljs-memory', 'exceljs-stream-plain', 'sheetjs'] as const;
export type WriterName = (typeof WRITERS)[number];

/** The baselines ours is compared with. */
export const BASELINES = ['exceljs-memory', 'exceljs-stream-plain', 'sheetjs'] as const satisfies readonly WriterName[];

/** What a worker prints on stdout (one JSON line). */
export interface WorkerResult {
  readonly writer: WriterName;
  /** Wall time of the work only (not of process start-up). */
  readonly wallSeconds: number;
  /**
   * CPU time of the work (user + system, every thread of the process: zlib's deflate runs on libuv's threadpool).
   * Above wallSeconds when the row generator and deflate overlap on two cores.
   */
  readonly cpuSeconds?: number;
  /** Peak resident set size of the worker process (`process.resourceUsage().maxRSS`). */
  readonly maxRssMiB: number;
  /** Size of the written .xlsx (for the floor: the deflated sheet XML). */
  readonly fileBytes: number;
  /** `ours`: the run report's stage timings in ms (fetch, parse, write, upload). */
  readonly timings?: Readonly<Record<string, number>>;
  /** `ours`: the zip level the configuration gave the run. */
  readonly zipLevel?: number;
  /**
   * `floor`: its two parts (csv-parse, deflate-6); and, not part of the floor, the project's own parser over the
   * same file and deflate at the zip level ours ran with — the floor ours would have with its own parser and level.
   */
  readonly components?: {
    readonly csvParseSeconds: number;
    readonly deflateSeconds: number;
    readonly ourParseSeconds: number;
    readonly deflateAtOursLevelSeconds: number;
    /** CPU seconds of the strict floor (own parser + deflate at ours' level): comparable with ours' cpuSeconds. */
    readonly strictFloorCpuSeconds?: number;
    readonly oursZipLevel: number;
  };
}

export function isWriterName(value: string | undefined): value is WriterName {
  return (WRITERS as readonly string[]).includes(value ?? '');
}

/** Peak RSS of this process so far, in MiB. */
export function maxRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** CPU seconds (user + system, all threads) since a `process.cpuUsage()` reading. */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Seconds since a `performance.now()` reading. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/**
 * Runs a worker's measurement and prints its result as one JSON line, or the error on stderr with exit code 1.
 * Workers import only what their writer needs, so each process's RSS holds that writer and nothing else.
 */
export function runWorkerMain(measure: () => Promise<WorkerResult>): void {
  measure().then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** `--name value` of a worker's command line; throws naming the usage when missing. */
export function requiredArg(name: string, usage: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`missing --${name}; usage: ${usage}`);
  return value;
}
