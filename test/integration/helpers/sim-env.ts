/**
 * Both simulators plus a config that points at them through ordinary configuration (serverUrl, authorityHost,
 * graphBaseUrl, caFile) and credentials given through environment variables — exactly what a user does with real
 * services. Used by the integration, fault and end-to-end tests.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startTableauSimulator,
  type TableauSimulator,
  type TableauSimulatorOptions,
} from '../../../src/simulators/tableau/index.js';
import { startGraphSimulator, type GraphSimulator } from '../../../src/simulators/graph/index.js';

export const SIM_PAT = { name: 'test-export-bot', secret: 'sentinel-pat-secret-7f3a9c1e5b' };
export const SIM_CLIENT = {
  tenantId: 'tenant-test',
  clientId: 'client-test',
  secret: 'sentinel-client-secret-4d8e2a6b',
};
export const SIM_USER = 'ops@contoso.com';

export interface SimEnv {
  readonly dir: string;
  readonly tableau: TableauSimulator;
  readonly graph: GraphSimulator;
  /** Env vars holding the credentials the config names. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Writes a config file with `tableau:` and `onedrive:` sections pointing at the simulators (fast retry policy so
   * fault tests finish in seconds) and the given `exports:` YAML (indented as a top-level key's list), plus extra
   * top-level YAML. Returns its path.
   */
  writeConfig(
    exportsYaml: string,
    options?: { name?: string; extraTopLevel?: string; tableauExtra?: string; onedriveExtra?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startSimEnv(options: { rows?: number; tableau?: TableauSimulatorOptions } = {}): Promise<SimEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'tee-sim-'));
  const tableau = await startTableauSimulator({
    rowCount: options.rows ?? 500,
    pats: [{ name: SIM_PAT.name, secret: SIM_PAT.secret, user: 'ops@example.com' }],
    tlsDir: join(dir, 'tableau-tls'),
    ...options.tableau,
  });
  const graph = await startGraphSimulator({
    storageDir: join(dir, 'onedrive'),
    tenantId: SIM_CLIENT.tenantId,
    clients: [{ clientId: SIM_CLIENT.clientId, clientSecret: SIM_CLIENT.secret }],
    users: [SIM_USER],
  });
  const env: NodeJS.ProcessEnv = {
    TABLEAU_PAT_NAME: SIM_PAT.name,
    TABLEAU_PAT_SECRET: SIM_PAT.secret,
    AZURE_CLIENT_SECRET: SIM_CLIENT.secret,
  };
  let n = 0;
  return {
    dir,
    tableau,
    graph,
    env,
    async writeConfig(exportsYaml, o = {}) {
      const path = join(dir, o.name ?? `config-${++n}.yaml`);
      const text = `timezone: Europe/Paris
stateDir: ./state
tableau:
  serverUrl: ${tableau.url}
  site: sales
  caFile: ${tableau.caFile}
  auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: TABLEAU_PAT_SECRET }
  retry: { attempts: 4, initialDelay: 50ms, maxDelay: 200ms, maxRetryAfter: 2s, giveUpAfter: 20s }
${o.tableauExtra ?? ''}
onedrive:
  tenantId: ${SIM_CLIENT.tenantId}
  clientId: ${SIM_CLIENT.clientId}
  clientSecretEnv: AZURE_CLIENT_SECRET
  authorityHost: ${graph.authorityHost}
  graphBaseUrl: ${graph.graphBaseUrl}
  caFile: ${graph.caFile}
  retry: { attempts: 4, initialDelay: 50ms, maxDelay: 200ms, maxRetryAfter: 2s, giveUpAfter: 20s }
${o.onedriveExtra ?? ''}
${o.extraTopLevel ?? ''}
exports:
${exportsYaml}
`;
      await writeFile(path, text);
      return path;
    },
    async close() {
      await Promise.all([tableau.close(), graph.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The sample export against the simulators: three views, metrics, OneDrive destination. */
export function sampleExportYaml(
  options: { id?: string; path?: string; onLocked?: string; extra?: string } = {},
): string {
  return `  - id: ${options.id ?? 'pipeline'}
    timezone: America/New_York
    views:
      - { workbook: Sales Pipeline, view: Opportunities }
      - { workbook: Sales Pipeline, view: Pipeline by Stage }
      - { workbook: Sales Pipeline, view: Rep Performance }
    metrics: { from: Opportunities }
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: ${options.path ?? 'Reports/Sales Pipeline.xlsx'}
      onLocked: ${options.onLocked ?? '{ retryFor: 2s, then: fail }'}
${options.extra ?? ''}`;
}
