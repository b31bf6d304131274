/**
 * `tableau-export demo`: the whole tool with no network and no credentials. Starts the Tableau Server and Microsoft
 * Graph simulators on loopback HTTPS, points the config at them (serverUrl, authorityHost, graphBaseUrl, caFile —
 * ordinary configuration, nothing else changes), gives the clients throw-away credentials through the environment,
 * runs every export through the real clients and prints where each workbook landed.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { UsageError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { startTableauSimulator } from '../../simulators/tableau/index.js';
import { startGraphSimulator } from '../../simulators/graph/index.js';
import type { RunReport } from '../../contracts/run-report.js';
import { createAppContext, type AppContext } from '../app-context.js';
import { createProgress, EXIT_OK, EXIT_RUN_FAILED } from '../output.js';

export interface DemoOptions {
  readonly rows: number;
  readonly json: boolean;
  readonly logger: Logger;
  readonly redactor: Redactor;
}

type GraphSim = Awaited<ReturnType<typeof startGraphSimulator>>;
type TableauSim = Awaited<ReturnType<typeof startTableauSimulator>>;

interface DemoCredentials {
  readonly pat: { readonly name: string; readonly secret: string };
  readonly clientSecret: string;
}

export async function demoCommand(file: string, options: DemoOptions): Promise<number> {
  if (!Number.isInteger(options.rows) || options.rows < 1)
    throw new UsageError('--rows must be a positive whole number');
  const loaded = await loadConfig(file);
  const { config } = loaded;
  const tableauAuth = config.tableau?.auth;
  if (tableauAuth !== undefined && tableauAuth.type !== 'pat') {
    throw new UsageError(
      'the demo signs in to the Tableau simulator with a personal access token; use tableau.auth.type: pat in the demo config',
    );
  }
  // Throw-away credentials, fresh each run, handed over exactly as real ones are: through env vars.
  const credentials: DemoCredentials = {
    pat: { name: 'demo-export-bot', secret: `demo-pat-${randomBytes(12).toString('hex')}` },
    clientSecret: `demo-secret-${randomBytes(12).toString('hex')}`,
  };
  options.redactor.addSecret(credentials.pat.secret);
  options.redactor.addSecret(credentials.clientSecret);

  const { tableau, graph } = await startDemoSimulators(config, credentials, options.rows);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (tableauAuth !== undefined) {
      env[tableauAuth.tokenNameEnv] = credentials.pat.name;
      env[tableauAuth.tokenSecretEnv] = credentials.pat.secret;
    }
    env[config.onedrive?.clientSecretEnv ?? 'AZURE_CLIENT_SECRET'] = credentials.clientSecret;
    const demoLoaded: LoadedConfig = { ...loaded, config: pointAtSimulators(config, tableau, graph) };
    const ctx = createAppContext(demoLoaded, { logger: options.logger, redactor: options.redactor, env });
    const seeded = await seedTeamWorkbooks(ctx, loaded.baseDir, graph);
    if (!options.json) {
      process.stdout.write(
        `Tableau simulator:   ${tableau.url} (site "${config.tableau?.site ?? ''}", ${options.rows.toLocaleString('en-US')} opportunities)\n`,
      );
      process.stdout.write(`Graph simulator:     ${graph.graphBaseUrl} (authority ${graph.authorityHost})\n`);
      for (const line of seeded) process.stdout.write(`${line}\n`);
      process.stdout.write('\n');
    }
    const reports: RunReport[] = [];
    try {
      for (const exp of config.exports) {
        const progress = createProgress();
        const report = await ctx.runOne(exp.id, {
          trigger: { kind: 'cli' },
          onProgress: (p) =>
            progress.update(
              p.stage === 'write'
                ? `${exp.id}: ${p.sheet}: ${p.rows.toLocaleString('en-US')} rows`
                : `${exp.id}: ${p.stage} ${p.sheet}`,
            ),
        });
        progress.done();
        reports.push(report);
        process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : describeDemoRun(report, graph));
      }
    } finally {
      await ctx.close();
    }
    return reports.every((r) => r.status !== 'failed') ? EXIT_OK : EXIT_RUN_FAILED;
  } finally {
    await Promise.all([tableau.close(), graph.close()]);
  }
}

/** Both simulators, seeded for the config: its site, its OneDrive users and SharePoint sites, a realistic pipeline. */
async function startDemoSimulators(
  config: Config,
  credentials: DemoCredentials,
  rows: number,
): Promise<{ tableau: TableauSim; graph: GraphSim }> {
  const demoDir = join(config.stateDir, 'demo');
  const drives = config.exports.flatMap((e) => (e.destination.type === 'onedrive' ? [e.destination.drive] : []));
  const { pat } = credentials;
  const tableau = await startTableauSimulator({
    sites: [config.tableau?.site ?? ''],
    pats: [{ name: pat.name, secret: pat.secret, user: 'demo@example.com' }],
    users: [{ name: 'demo@example.com', password: randomBytes(8).toString('hex') }],
    rowCount: rows,
    seed: 20261127,
    asOf: new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate())),
    tlsDir: join(demoDir, 'tableau-tls'),
  });
  const graph = await startGraphSimulator({
    storageDir: join(demoDir, 'onedrive'),
    tenantId: config.onedrive?.tenantId ?? 'demo-tenant',
    clients: [{ clientId: config.onedrive?.clientId ?? 'demo-client', clientSecret: credentials.clientSecret }],
    users: [...new Set(drives.flatMap((d) => ('user' in d ? [d.user] : [])))],
    sites: [...new Set(drives.flatMap((d) => ('site' in d ? [d.site] : [])))],
  });
  return { tableau, graph };
}

/** The config with its service URLs, CAs and credential pointed at the simulators (ordinary configuration only). */
function pointAtSimulators(config: Config, tableau: TableauSim, graph: GraphSim): Config {
  return {
    ...config,
    tableau:
      config.tableau === undefined ? undefined : { ...config.tableau, serverUrl: tableau.url, caFile: tableau.caFile },
    onedrive:
      config.onedrive === undefined
        ? undefined
        : {
            ...config.onedrive,
            clientSecretEnv: config.onedrive.clientSecretEnv ?? 'AZURE_CLIENT_SECRET',
            certificate: undefined,
            authorityHost: graph.authorityHost,
            graphBaseUrl: graph.graphBaseUrl,
            caFile: graph.caFile,
          },
  };
}

/**
 * An update-mode export needs the team's workbook on OneDrive first: the demo puts the sample one there
 * (`config/team-workbook.xlsx`, made by LibreOffice with `npm run make:team-workbook`), as a teammate would.
 */
async function seedTeamWorkbooks(ctx: AppContext, baseDir: string, graph: GraphSim): Promise<string[]> {
  const sample = join(baseDir, TEAM_WORKBOOK);
  const lines: string[] = [];
  for (const exp of ctx.config.exports) {
    const d = exp.destination;
    if (d.type !== 'onedrive' || d.mode !== 'update' || !('user' in d.drive)) continue;
    if (graph.itemInfo(`${d.drive.user}/${d.path}`) !== undefined) continue;
    const bytes = await stat(sample).then(
      (st) => st.size,
      () => undefined,
    );
    if (bytes === undefined) {
      // Update mode creates a missing file as replace mode would; the demo then shows creation, not the kept work.
      lines.push(`Team workbook:       no ${sample}; '${exp.id}' will create ${d.path} itself on its first run`);
      continue;
    }
    await ctx
      .destinationFor(exp)
      .deliver(
        { path: sample, bytes, suggestedName: posix.basename(d.path) },
        { logger: ctx.logger, signal: new AbortController().signal, runStartedAt: new Date(), timezone: 'UTC' },
      );
    lines.push(
      `Team workbook:       ${d.path} ← ${TEAM_WORKBOOK} (a pivot, a chart, a formula column, notes, a sheet of its own)`,
    );
  }
  return lines;
}

const TEAM_WORKBOOK = 'team-workbook.xlsx';

/** What the demo prints for one run: the outcome, where the file landed and how to open it, the warnings. */
function describeDemoRun(report: RunReport, graph: GraphSim): string {
  const id = report.exportId;
  if (report.status === 'failed')
    return `✗ ${id}: failed [${report.error?.code ?? ''}] ${report.error?.message ?? ''}\n`;
  const lines = [
    `✓ ${id}: ${report.status}, ${report.rows.toLocaleString('en-US')} rows in ${report.sheets.length} sheet(s), ${(report.bytes / 1024).toFixed(0)} KiB, ${((report.durationMs ?? 0) / 1000).toFixed(1)}s`,
  ];
  const dest = report.destination;
  if (dest?.webUrl !== undefined) {
    const stored = graph.itemInfo(dest.location);
    lines.push(`    OneDrive: ${dest.location}`, `    webUrl:   ${dest.webUrl}`);
    if (stored !== undefined) lines.push(`    open it:  ${stored.localPath}  (version ${stored.versions})`);
  } else if (dest !== undefined && report.parts === undefined) {
    lines.push(`    open it:  ${dest.location}`);
  }
  // A burst into files: one workbook per value, each where its template put it.
  for (const part of report.parts ?? []) {
    const stored = part.destination === undefined ? undefined : graph.itemInfo(part.destination.location);
    const where = stored?.localPath ?? part.destination?.location ?? part.error?.message ?? '';
    lines.push(`    ${part.value}: ${part.status}, ${part.rows.toLocaleString('en-US')} rows → ${where}`);
  }
  const u = report.update;
  if (u !== undefined) {
    const list = (names: readonly string[] | undefined): string =>
      names === undefined || names.length === 0 ? 'none' : names.join(', ');
    for (const t of u.tables) {
      lines.push(
        `    kept:     table '${t.table}': the team's columns ${list(t.teammateColumns)} by key, formulas ${list(t.calculatedColumns)} extended to every row`,
      );
      for (const d of t.droppedRows)
        lines.push(`              row ${d.key} left the view; its team values were: ${d.values.join(' | ')}`);
    }
    lines.push(
      `    kept:     ${u.keptParts ?? 0} parts byte for byte, the team's sheets ${list(u.teamSheets)}${u.conflicts > 0 ? `; ${u.conflicts} teammate save(s) merged` : ''}`,
    );
  }
  for (const w of report.warnings) lines.push(`    ! ${w}`);
  return `${lines.join('\n')}\n`;
}
