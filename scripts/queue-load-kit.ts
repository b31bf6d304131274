/**
 * Shared pieces of `scripts/queue-load.ts`: a cleanup list that also runs on Ctrl-C and on a crash (so no worker,
 * Redis or temp folder outlives the script), a private Redis started through `scripts/ensure-redis.sh`, CPU sampling
 * from /proc (the machine is small and shared: a throughput number means little without how busy the CPUs were),
 * and the Markdown table printer.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Things to undo at the end, newest first; each also has a synchronous last-resort form for `process.on('exit')`. */
export interface Cleanup {
  /** A temp folder to remove. */
  dir(path: string): void;
  /** A child process to stop: `stop` (graceful) at the end, SIGKILL of `pid` if the script dies first. */
  child(pid: number, stop: () => Promise<unknown>): void;
  /** Any other async step (e.g. closing the simulators); `sync` runs instead when the script exits abruptly. */
  step(name: string, run: () => Promise<unknown>, sync?: () => void): void;
  /** Runs every registered step (newest first), reporting but not stopping on errors. Idempotent. */
  runAll(): Promise<void>;
  /** The signal that interrupted the script, if any (the measurement then fails on the processes being stopped). */
  interruptedBy(): NodeJS.Signals | undefined;
}

interface Entry {
  readonly name: string;
  readonly run: () => Promise<unknown>;
  readonly sync: () => void;
}

/**
 * Creates the cleanup list and hooks it to SIGINT/SIGTERM (graceful cleanup, then exit 130/143) and to `exit`
 * (synchronous kills and removals for whatever is still registered, e.g. after an uncaught exception).
 */
export function createCleanup(): Cleanup {
  const entries: Entry[] = [];
  let running: Promise<void> | undefined;
  let signal: NodeJS.Signals | undefined;
  const runAll = (): Promise<void> => {
    running ??= (async () => {
      while (entries.length > 0) {
        const e = entries.pop();
        if (e === undefined) break;
        try {
          await e.run();
        } catch (err) {
          console.error(
            `queue-load: cleanup step "${e.name}" failed: ${err instanceof Error ? err.message : String(err)}`,
          );
          try {
            e.sync();
          } catch {
            // best effort: the exit handler cannot do more
          }
        }
      }
    })();
    return running;
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    signal = sig;
    console.error(`queue-load: ${sig}: stopping workers, Redis and simulators`);
    void runAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const e of entries.reverse()) {
      try {
        e.sync();
      } catch {
        // the process is exiting: nothing else can be done
      }
    }
  });
  return {
    dir(path) {
      const rm = (): void => rmSync(path, { recursive: true, force: true });
      entries.push({ name: `remove ${path}`, run: async () => rm(), sync: rm });
    },
    child(pid, stop) {
      const kill = (): void => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      entries.push({ name: `stop pid ${pid}`, run: stop, sync: kill });
    },
    step(name, run, sync = () => undefined) {
      entries.push({ name, run, sync });
    },
    runAll,
    interruptedBy: () => signal,
  };
}

/** A throw-away redis-server on a loopback port (installed from Debian's packages by ensure-redis.sh if missing). */
export async function startPrivateRedis(cleanup: Cleanup): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'queue-load-redis-env-'));
  cleanup.dir(dir);
  const { stdout, stderr } = await execFileAsync(
    'bash',
    [join(REPO_ROOT, 'scripts/ensure-redis.sh'), join(dir, 'redis.env')],
    { cwd: REPO_ROOT },
  );
  const url = /REDIS_URL=(redis:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
  if (url?.[1] === undefined || url[2] === undefined)
    throw new Error(`scripts/ensure-redis.sh printed no REDIS_URL line; stdout: ${stdout}; stderr: ${stderr}`);
  const port = url[2];
  const redisDir = /\(dir ([^,]+),/.exec(stderr)?.[1];
  const shutdown = (): void => {
    try {
      execFileSync('redis-cli', ['-p', port, 'shutdown', 'nosave'], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      // `shutdown` closes the connection without a reply, which redis-cli may report as an error
    }
    if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true });
  };
  cleanup.step(`shut down redis on port ${port}`, async () => shutdown(), shutdown);
  return url[1];
}

/** Machine-wide CPU jiffies from /proc/stat (all cores). */
export interface CpuSample {
  readonly busy: number;
  readonly total: number;
}

export function sampleMachineCpu(): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Share (0..1) of all cores' time spent busy between two samples, whoever used it. */
export function busyShare(from: CpuSample, to: CpuSample): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : 0;
}

/** CPU seconds (user + system) a live process has used so far, from /proc/<pid>/stat; 0 if it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / clockTicksPerSecond();
  } catch {
    return 0;
  }
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Prints a Markdown table (right-aligned columns: they are all numbers). */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`|${headers.map((h) => `${'-'.repeat(Math.max(3, h.length + 1))}:`).join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}
