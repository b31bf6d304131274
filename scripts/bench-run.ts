/**
 * Benchmarks a whole `tableau-export run` against the built-in simulators: Tableau view data (streamed CSV) →
 * typed workbook → OneDrive upload session, in a fresh child process running the real CLI as built for production
 * (`dist/`, plain node: RSS holds no TypeScript loader). Prints the time per stage from the run report (fetch,
 * parse/type, write, upload) and the child's peak RSS, and writes bench-results/run-latest.json.
 *
 *   npm run bench:run -- --rows 1000000 [--metrics]
 *
 * `BENCH_NO_BUILD=1` reuses the `dist/` already built (for several sizes in a row).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTableauSimulator } from '../src/simulators/tableau/index.js';
import { startGraphSimulator } from '../src/simulators/graph/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench-results');

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const rows = Number(option('rows', '1000000'));
const withMetrics = process.argv.includes('--metrics');

/** Peak RSS of a running process so far (Linux /proc; read synchronously so the last sample is close to exit). */
function readVmHwmMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  // The production build (tsc, as in the Docker image): dynamic imports stay lazy, so the run loads what it uses.
  console.log('building dist/ (npm run build)…');
  const build =
    process.env['BENCH_NO_BUILD'] === '1'
      ? { status: 0 }
      : spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const work = await mkdtemp(join(tmpdir(), 'tee-bench-run-'));
  const patSecret = `bench-pat-${Date.now()}`;
  const clientSecret = `bench-secret-${Date.now()}`;
  console.log(`starting simulators with ${rows.toLocaleString('en-US')} opportunities…`);
  const tableau = await startTableauSimulator({
    rowCount: rows,
    pats: [{ name: 'bench', secret: patSecret, user: 'bench@example.com' }],
    tlsDir: join(work, 'tls'),
  });
  const graph = await startGraphSimulator({
    storageDir: join(work, 'onedrive'),
    tenantId: 'bench-tenant',
    clients: [{ clientId: 'bench-client', clientSecret }],
    users: ['ops@contoso.com'],
  });
  try {
    const config = join(work, 'bench.yaml');
    await writeFile(
      config,
      `stateDir: ./state
tableau:
  serverUrl: ${tableau.url}
  site: sales
  caFile: ${tableau.caFile}
  auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: TABLEAU_PAT_SECRET }
onedrive:
  tenantId: bench-tenant
  clientId: bench-client
  clientSecretEnv: AZURE_CLIENT_SECRET
  authorityHost: ${graph.authorityHost}
  graphBaseUrl: ${graph.graphBaseUrl}
  caFile: ${graph.caFile}
exports:
  - id: bench
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
${withMetrics ? '    metrics: { from: Opportunities }\n' : ''}    destination: { type: onedrive, drive: { user: ops@contoso.com }, path: Bench/Opportunities.xlsx, skipUnchanged: false }
`,
    );
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'cli', 'main.js'), 'run', 'bench', '--config', config, '--json'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TABLEAU_PAT_NAME: 'bench',
          TABLEAU_PAT_SECRET: patSecret,
          AZURE_CLIENT_SECRET: clientSecret,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    let peak = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, readVmHwmMiB(child.pid) ?? 0);
    }, 200);
    const code = await new Promise<number | null>((done) => child.on('close', done));
    clearInterval(poll);
    const wall = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`run failed (exit ${code}): ${stdout}`);
    const report = JSON.parse(stdout.trim()) as {
      rows: number;
      bytes: number;
      timings: Record<string, number>;
      status: string;
      warnings: string[];
    };
    const t = report.timings;
    const s = (k: string): string => ((t[k] ?? 0) / 1000).toFixed(1);
    const result = {
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '',
        memoryGiB: Math.round(totalmem() / 1024 ** 3),
        node: process.version,
      },
      rows: report.rows,
      metrics: withMetrics,
      status: report.status,
      wallSeconds: Number(wall.toFixed(2)),
      stageSeconds: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / 1000])),
      peakRssMiB: Math.round(peak),
      fileMiB: Number((report.bytes / 1024 ** 2).toFixed(1)),
    };
    console.log(
      `\nwhole run, ${report.rows.toLocaleString('en-US')} rows${withMetrics ? ' + metrics' : ''}: ${report.status} in ${wall.toFixed(1)} s (process), peak RSS ${Math.round(peak)} MiB, workbook ${result.fileMiB} MiB`,
    );
    console.log(
      `  fetch ${s('fetch')} s · parse/type ${s('parse')} s · write ${s('write')} s${withMetrics ? ` · metrics ${s('metrics')} s` : ''} · upload ${s('upload')} s`,
    );
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(join(RESULTS_DIR, 'run-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    const stored = await readFile(graph.itemInfo('ops@contoso.com/Bench/Opportunities.xlsx')?.localPath ?? '').catch(
      () => undefined,
    );
    if (stored?.length !== report.bytes) throw new Error('the stored workbook does not have the size the run reported');
  } finally {
    await Promise.all([tableau.close(), graph.close()]);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
