/**
 * A Tableau Server simulator on loopback HTTPS (self-signed CA), for the demo and the integration tests. It follows
 * the REST protocol the way Tableau does and rejects what Tableau rejects: unauthenticated serverInfo, sign-in with
 * PAT / password / connected-app JWT (signature and claims verified), one live session per PAT (signing in again
 * kills the earlier session), expiring tokens, views and workbooks lists with `filter=` and paging, Get View, Query
 * Views for Workbook (no pagination element), view data as display-formatted CSV with `vf_` filters, and the
 * Metadata API (GraphQL) for dashboards' sheets and extract refresh times, which can be switched off.
 *
 * Faults are injected through the returned `faults` queue; `stats` counts sign-ins, sessions and concurrency.
 *
 * This module starts the server and wires the parts: the state (`sim-state.ts`), the request pipeline
 * (`handle-request.ts`: log, faults, route, send) and one route module per endpoint family under `routes/`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulatorTls } from '../tls.js';
import { createTableauFaults, type TableauFaults } from './fault-injection.js';
import { handleRequest } from './handle-request.js';
import type { SimWorkbook } from './sim-content.js';
import type { PipelineOptions } from '../demo-data/pipeline-generator.js';
import { createTableauSimState, type TableauSimulatorOptions, type TableauSimulatorStats } from './sim-state.js';

export type { FaultTarget, TableauFault, TableauFaults } from './fault-injection.js';
export type {
  SimConnectedApp,
  SimPat,
  SimRequestLogEntry,
  SimUser,
  TableauSimulatorOptions,
  TableauSimulatorStats,
} from './sim-state.js';

export interface TableauSimulator {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** CA certificate PEM to trust (`tableau.caFile`). */
  readonly caFile: string;
  readonly faults: TableauFaults;
  readonly stats: TableauSimulatorStats;
  /** Site LUID by contentUrl. */
  siteId(contentUrl: string): string;
  /** The content served (for tests that address views by id). */
  readonly workbooks: readonly SimWorkbook[];
  /** Turns the Metadata API on or off (as `tsm maintenance metadata-services enable|disable`). */
  setMetadataApi(enabled: boolean): void;
  /** When the extracts were last refreshed; undefined: one hour before each request. */
  setExtractRefreshedAt(at: Date | undefined): void;
  /**
   * Changes the data every view serves from the next request on (another seed, as-of date or row count), as a real
   * site's data changes between nights. Requests already streaming keep the data they started with.
   */
  setPipeline(change: Partial<PipelineOptions>): void;
  /** Kills every live session (as an admin or a restart would). */
  expireAllSessions(): void;
  /** Every session token issued so far, so tests and the demo can check that none leaked into logs or reports. */
  issuedTokens(): readonly string[];
  close(): Promise<void>;
}

/**
 * Starts the simulator on `127.0.0.1`, port 0 (a free port). Close it with `close()`.
 */
export async function startTableauSimulator(options: TableauSimulatorOptions = {}): Promise<TableauSimulator> {
  const tlsDir = options.tlsDir ?? (await mkdtemp(join(tmpdir(), 'tableau-sim-')));
  const tls = await createSimulatorTls(tlsDir);
  const server = https.createServer({ key: tls.key, cert: tls.cert, keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const state = createTableauSimState(options, (server.address() as AddressInfo).port);
  server.on('request', (req, res) => {
    handleRequest(state, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  return {
    url: state.baseUrl,
    caFile: tls.caFile,
    faults: createTableauFaults(state.faultQueue),
    stats: state.stats,
    workbooks: state.workbooks,
    siteId: (contentUrl) => {
      const id = state.siteIds.get(contentUrl);
      if (id === undefined) throw new Error(`no simulated site '${contentUrl}'`);
      return id;
    },
    setMetadataApi: (enabled) => {
      state.metadata.enabled = enabled;
    },
    setExtractRefreshedAt: (at) => {
      state.metadata.extractRefreshedAt = at;
    },
    setPipeline: (change) => {
      state.pipeline = { ...state.pipeline, ...change };
    },
    expireAllSessions: () => state.sessions.clear(),
    issuedTokens: () => [...state.issued],
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (options.tlsDir === undefined) await rm(tlsDir, { recursive: true, force: true });
    },
  };
}
