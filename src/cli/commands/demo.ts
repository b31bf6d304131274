/**
 * `tableau-export demo`: the whole tool with no network and no credentials. Starts the Tableau Server and Microsoft
 * Graph simulators on loopback HTTPS, points the config at them (serverUrl, authorityHost, graphBaseUrl, caFile —
 * ordinary configuration, nothing else changes), gives the clients throw-away credentials through the environment,
 * runs every export through the real clients and prints where each workbook landed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { UsageError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { startTableauSimulator } from '../../simulators/tableau/index.js';
import { startGraphSimulator } from '../../simulators/graph/index.js';
import type { RunReport } from '../../contracts/run-report.js';
import { createAppContext } from '../app-context.js';
import { createProgress, EXIT_OK, EXIT_RUN_FAILED } from '../output.js';

export interface DemoOptions {
  readonly rows: number;
  readonly json: boolean;
  readonly logger: Logger;
  readonly redactor: Redactor;
}

export async function demoCommand(file: string, options: DemoOptions): Promise<number> {
  if (!Number.isInteger(options.rows) || options.rows < 1)
    throw new UsageError('--rows must be a positive whole number');
  const loaded = await loadConfig(file);
  const { config } = loaded;
  const demoDir = join(config.stateDir, 'demo');
  const env: NodeJS.ProcessEnv = { ...process.env };

  const tableauAuth = config.tableau?.auth;
  if (tableauAuth !== undefined && tableauAuth.type !== 'pat') {
    throw new UsageError(
      'the demo signs in to the Tableau simulator with a personal access token; use tableau.auth.type: pat in the demo config',
    );
  }
  // Throw-away credentials, fresh each run, handed over exactly as real ones are: through env vars.
  const pat = { name: 'demo-export-bot', secret: `demo-pat-${randomBytes(12).toString('hex')}` };
  const clientSecret = `demo-secret-${randomBytes(12).toString('hex')}`;
  options.redactor.addSecret(pat.secret);
  options.redactor.addSecret(clientSecret);

  const tableau = await startTableauSimulator({
    sites: [config.tableau?.site ?? ''],
    pats: [{ name: pat.name, secret: pat.secret, user: 'demo@example.com' }],
    users: [{ name: 'demo@example.com', password: randomBytes(8).toString('hex') }],
    rowCount: options.rows,
    seed: 20261127,
    asOf: new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate())),
    tlsDir: join(demoDir, 'tableau-tls'),
  });
  const graph = await startGraphSimulator({
    storageDir: join(demoDir, 'onedrive'),
    tenantId: config.onedrive?.tenantId ?? 'demo-tenant',
    clients: [{ clientId: config.onedrive?.clientId ?? 'demo-client', clientSecret }],
    users: [
      ...new Set(
        config.exports.flatMap((e) =>
          e.destination.type === 'onedrive' && 'user' in e.destination.drive ? [e.destination.drive.user] : [],
        ),
      ),
    ],
    sites: [
      ...new Set(
        config.exports.flatMap((e) =>
          e.destination.type === 'onedrive' && 'site' in e.destination.drive ? [e.destination.drive.site] : [],
        ),
      ),
    ],
  });
  try {
    if (tableauAuth !== undefined) {
      env[tableauAuth.tokenNameEnv] = pat.name;
      env[tableauAuth.tokenSecretEnv] = pat.secret;
    }
    if (config.onedrive?.clientSecretEnv !== undefined) env[config.onedrive.clientSecretEnv] = clientSecret;
    const demoConfig: Config = {
      ...config,
      tableau:
        config.tableau === undefined
          ? undefined
          : { ...config.tableau, serverUrl: tableau.url, caFile: tableau.caFile },
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
    if (config.onedrive?.clientSecretEnv === undefined) env['AZURE_CLIENT_SECRET'] = clientSecret;
    const demoLoaded: LoadedConfig = { ...loaded, config: demoConfig };
    const ctx = createAppContext(demoLoaded, { logger: options.logger, redactor: options.redactor, env });
    if (!options.json) {
      process.stdout.write(
        `Tableau simulator:   ${tableau.url} (site "${config.tableau?.site ?? ''}", ${options.rows.toLocaleString('en-US')} opportunities)\n`,
      );
      process.stdout.write(`Graph simulator:     ${graph.graphBaseUrl} (authority ${graph.authorityHost})\n\n`);
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
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          continue;
        }
        if (report.status === 'failed') {
          process.stdout.write(`✗ ${exp.id}: failed [${report.error?.code ?? ''}] ${report.error?.message ?? ''}\n`);
          continue;
        }
        process.stdout.write(
          `✓ ${exp.id}: ${report.status}, ${report.rows.toLocaleString('en-US')} rows in ${report.sheets.length} sheet(s), ${(report.bytes / 1024).toFixed(0)} KiB, ${((report.durationMs ?? 0) / 1000).toFixed(1)}s\n`,
        );
        const dest = report.destination;
        if (dest?.webUrl !== undefined) {
          const stored = graph.itemInfo(dest.location);
          process.stdout.write(`    OneDrive: ${dest.location}\n    webUrl:   ${dest.webUrl}\n`);
          if (stored !== undefined)
            process.stdout.write(`    open it:  ${stored.localPath}  (version ${stored.versions})\n`);
        } else if (dest !== undefined) {
          process.stdout.write(`    open it:  ${dest.location}\n`);
        }
        for (const w of report.warnings) process.stdout.write(`    ! ${w}\n`);
      }
    } finally {
      await ctx.close();
    }
    return reports.every((r) => r.status !== 'failed') ? EXIT_OK : EXIT_RUN_FAILED;
  } finally {
    await Promise.all([tableau.close(), graph.close()]);
  }
}
