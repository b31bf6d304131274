/**
 * Shared checks of the fault and security suites: parse `run --json` output, read the run history straight from the
 * SQLite state file, read a delivered workbook back, look for leftover temp files, and shrink the disk under a
 * folder (a small tmpfs when the sandbox allows mounts, else a file-size ulimit on the child process) so "disk
 * full" is real I/O failure, not test-only code in the product.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import type { RunReport } from '../../../src/contracts/run-report.js';
import { REPO_ROOT, type CliResult } from './cli.js';

const exec = promisify(execFile);

/** The run reports `run --json` printed, one per line, in order. Throws naming the output when a line is not JSON. */
export function parseReports(result: CliResult): RunReport[] {
  return result.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as RunReport;
      } catch {
        throw new Error(`run --json printed a line that is not JSON: ${l}\nstderr:\n${result.stderr}`);
      }
    });
}

/** The one report of a single-export `run --json`, with the CLI output in the error when there is not exactly one. */
export function onlyReport(result: CliResult): RunReport {
  const reports = parseReports(result);
  if (reports.length !== 1)
    throw new Error(
      `expected one run report, got ${reports.length}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  return reports[0] as RunReport;
}

/** The report of `exportId` among several. */
export function reportOf(reports: readonly RunReport[], exportId: string): RunReport {
  const r = reports.find((x) => x.exportId === exportId);
  if (r === undefined)
    throw new Error(`no run report for '${exportId}' in ${JSON.stringify(reports.map((x) => x.exportId))}`);
  return r;
}

/** A run as stored in `<stateDir>/state.db` (read-only, straight from the file the CLI wrote). */
export function storedRun(stateDir: string, runId: string): RunReport | undefined {
  const db = new Database(join(stateDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare<[string], { report_json: string }>('SELECT report_json FROM run_history WHERE run_id = ?')
      .get(runId);
    return row === undefined ? undefined : (JSON.parse(row.report_json) as RunReport);
  } finally {
    db.close();
  }
}

/** Entries of `<stateDir>/tmp` (the run temp folders); [] when the folder does not exist. */
export async function tempLeftovers(stateDir: string): Promise<string[]> {
  const dir = join(stateDir, 'tmp');
  return existsSync(dir) ? readdir(dir) : [];
}

/** Files named `*.tmp` (or hidden temp copies) in a local destination folder. */
export async function tmpFilesIn(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).filter((n) => /\.tmp$/i.test(n)) : [];
}

/** Data rows (without the header) per sheet of an xlsx, read back with ExcelJS. */
export async function sheetRows(bytes: Buffer): Promise<Record<string, number>> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return Object.fromEntries(wb.worksheets.map((w) => [w.name, Math.max(0, w.actualRowCount - 1)]));
}

/** Header cells of one sheet. */
export async function sheetHeader(bytes: Buffer, sheet: string): Promise<string[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const ws = wb.getWorksheet(sheet);
  if (ws === undefined)
    throw new Error(`no sheet '${sheet}' in the workbook (sheets: ${wb.worksheets.map((w) => w.name).join(', ')})`);
  const values = ws.getRow(1).values;
  return (Array.isArray(values) ? values : []).filter((v) => v !== undefined && v !== null).map(String);
}

/**
 * Every part of an xlsx (a zip) as text: what a reader of the file could find in it. Read through the zip's central
 * directory (sizes there are exact even when the writer streamed the entries with data descriptors) and inflated
 * with zlib, so no zip library's quirks decide what the test sees.
 */
export function xlsxParts(bytes: Buffer): { path: string; text: string }[] {
  const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file: no end-of-central-directory record');
  const count = bytes.readUInt16LE(eocd + 10);
  let at = bytes.readUInt32LE(eocd + 16);
  const parts: { path: string; text: string }[] = [];
  for (let i = 0; i < count; i++) {
    if (bytes.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip central directory entry ${i} is corrupt`);
    const method = bytes.readUInt16LE(at + 10);
    const compressed = bytes.readUInt32LE(at + 20);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const path = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataStart = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const data = bytes.subarray(dataStart, dataStart + compressed);
    const content = method === 0 ? data : method === 8 ? inflateRawSync(data) : undefined;
    if (content === undefined) throw new Error(`zip entry ${path} uses compression method ${method}`);
    parts.push({ path, text: content.toString('utf8') });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return parts;
}

/** A folder made small; `release()` undoes it. */
export interface SmallDisk {
  readonly kind: 'tmpfs' | 'ulimit';
  /** Runs the CLI under this disk limit. */
  runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult>;
  release(): Promise<void>;
}

/**
 * Makes writes under `dir` fail once about `kib` KiB are written: a tmpfs of that size mounted on `dir` when this
 * process may mount (root in a permissive sandbox: writes fail with ENOSPC, a real full disk), otherwise a
 * `ulimit -f` on the child (writes past the size fail with EFBIG; SIGXFSZ is ignored so the process sees the error
 * instead of dying). Either way the product sees a failing write, through its ordinary file I/O.
 */
export async function makeSmallDisk(dir: string, kib: number): Promise<SmallDisk> {
  let mounted = false;
  if (process.platform === 'linux' && process.getuid?.() === 0) {
    try {
      await exec('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0755`, 'tmpfs', dir]);
      mounted = true;
    } catch {
      mounted = false;
    }
  }
  if (mounted) {
    return {
      kind: 'tmpfs',
      runCli: (args, env) => runNode(['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, ...args], env, undefined),
      async release() {
        await exec('umount', [dir]);
      },
    };
  }
  return {
    kind: 'ulimit',
    runCli: (args, env) => runNode(['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, ...args], env, kib),
    async release() {},
  };
}

function runNode(
  nodeArgs: readonly string[],
  env: NodeJS.ProcessEnv,
  fileLimitKib: number | undefined,
): Promise<CliResult> {
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const [cmd, argv] =
    fileLimitKib === undefined
      ? [process.execPath, nodeArgs]
      : [
          'bash',
          [
            '-c',
            `trap '' XFSZ; ulimit -f ${fileLimitKib}; exec ${[process.execPath, ...nodeArgs].map(quote).join(' ')}`,
          ],
        ];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
