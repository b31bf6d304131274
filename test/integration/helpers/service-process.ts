/**
 * Long-running CLI processes (`serve`, `worker`) for the service tests: spawned through tsx exactly like `runCli`,
 * with their JSON log lines (stderr) parsed, a way to wait for a line, signals (SIGTERM, SIGHUP, SIGKILL), the exit,
 * and a small client for the admin API. Every process is tracked by a {@link ServiceGroup} so `afterAll` can kill
 * whatever a failed test left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { REPO_ROOT } from './cli.js';

/** One pino log line of a service process (JSON, on stderr). */
export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** When the process exited (epoch ms). */
  readonly at: number;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Base URL of the admin server (`serve` only), from its "listening" log line. */
  readonly baseUrl: string;
  /** Every JSON log line so far (non-JSON stderr lines are kept in `stderr()`). */
  logs(): readonly LogLine[];
  stderr(): string;
  stdout(): string;
  /** Resolves with the first log line (past or future) for which `match` is true; rejects after `timeoutMs`. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal (no-op once exited). */
  signal(sig: NodeJS.Signals): void;
  /** Resolves once the process has exited. */
  readonly exited: Promise<ServiceExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM, wait up to `timeoutMs` (then SIGKILL); resolves with the exit. */
  stop(timeoutMs?: number): Promise<ServiceExit>;
}

export interface SpawnServiceOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The process is "ready" at the first log line matching this; default: spawn returns at once. */
  readonly ready?: (line: LogLine) => boolean;
  readonly readyTimeoutMs?: number;
}

/** A set of service processes a test file started; `killAll` in afterAll leaves nothing behind. */
export interface ServiceGroup {
  spawn(args: readonly string[], options?: SpawnServiceOptions): Promise<ServiceProcess>;
  /** `serve --config FILE --port 0 [extra]`, ready when the admin server listens. */
  serve(config: string, options?: SpawnServiceOptions & { extraArgs?: readonly string[] }): Promise<ServiceProcess>;
  /** `worker --config FILE`, ready when the worker takes jobs. */
  worker(config: string, options?: SpawnServiceOptions): Promise<ServiceProcess>;
  /** SIGKILLs every process still running and waits for their exits. */
  killAll(): Promise<void>;
}

export function createServiceGroup(baseEnv: NodeJS.ProcessEnv = {}): ServiceGroup {
  const started: ServiceProcess[] = [];
  const group: ServiceGroup = {
    async spawn(args, options = {}) {
      const p = await spawnService(args, { ...options, env: { ...baseEnv, ...options.env } }, (s) => started.push(s));
      return p;
    },
    serve(config, options = {}) {
      return group.spawn(['serve', '--config', config, '--port', '0', ...(options.extraArgs ?? [])], {
        ...options,
        ready:
          options.ready ??
          ((l) =>
            typeof l['url'] === 'string' && typeof l.msg === 'string' && l.msg.startsWith('admin server listening on')),
      });
    },
    worker(config, options = {}) {
      return group.spawn(['worker', '--config', config], {
        ...options,
        ready: options.ready ?? ((l) => l.msg === 'worker ready'),
      });
    },
    async killAll() {
      await Promise.all(
        started.map(async (p) => {
          if (p.hasExited()) return;
          p.signal('SIGKILL');
          await p.exited;
        }),
      );
    },
  };
  return group;
}

async function spawnService(
  args: readonly string[],
  options: SpawnServiceOptions,
  register: (p: ServiceProcess) => void,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    // JSON logs at info level whatever the caller's environment says (LOG_LEVEL=warn would hide the lines we wait for).
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let partial = '';
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let exitInfo: ServiceExit | undefined;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, at: Date.now() };
      resolve(exitInfo);
    });
  });
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    stderr += text;
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = parseLine(raw);
      if (line === undefined) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });

  const describe = (): string => `${args.join(' ')} (pid ${child.pid ?? '?'})`;
  const waitForLog = (what: string, match: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} in the log of ${describe()}; exit: ${JSON.stringify(exitInfo)}; stderr tail:\n${stderr.slice(-3000)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
      // A process that dies cannot log the line any more: fail at once with its output.
      void exited.then((e) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(
          new Error(
            `${describe()} exited (${e.code ?? e.signal}) before logging ${what}; stderr tail:\n${stderr.slice(-3000)}`,
          ),
        );
      });
    });
  };

  let baseUrl = '';
  const proc: ServiceProcess = {
    child,
    pid: child.pid ?? -1,
    get baseUrl() {
      return baseUrl;
    },
    logs: () => lines,
    stderr: () => stderr,
    stdout: () => stdout,
    waitForLog,
    signal(sig) {
      if (exitInfo === undefined) child.kill(sig);
    },
    exited,
    hasExited: () => exitInfo !== undefined,
    async stop(timeoutMs = 15_000) {
      if (exitInfo !== undefined) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
  register(proc);
  if (options.ready !== undefined) {
    const ready = await waitForLog('the ready line', options.ready, options.readyTimeoutMs ?? 30_000);
    if (typeof ready['url'] === 'string') baseUrl = ready['url'];
  }
  return proc;
}

function parseLine(raw: string): LogLine | undefined {
  const text = raw.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON response of the admin API. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Minimal admin API client (bearer token, JSON). */
export function createApiClient(
  baseUrl: () => string,
  token: string,
): {
  get(path: string): Promise<ApiResponse>;
  post(path: string): Promise<ApiResponse>;
} {
  const call = async (method: 'GET' | 'POST', path: string): Promise<ApiResponse> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the assertion message
    }
    return { status: res.status, body };
  };
  return { get: (p) => call('GET', p), post: (p) => call('POST', p) };
}

/** Polls `check` every 100 ms until it returns a value, or throws after `timeoutMs` naming `what`. */
export async function pollFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Rewrites the `stateDir:` line of a config written by `SimEnv.writeConfig` (which always says `./state`), so each
 * test has its own run history and temp folder.
 */
export async function setStateDir(configPath: string, stateDir: string): Promise<void> {
  const text = await readFile(configPath, 'utf8');
  if (!/^stateDir: \.\/state$/m.test(text)) throw new Error(`${configPath} has no "stateDir: ./state" line to replace`);
  await writeFile(configPath, text.replace(/^stateDir: \.\/state$/m, `stateDir: ${stateDir}`));
}
