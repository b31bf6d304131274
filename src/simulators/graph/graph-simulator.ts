/**
 * A Microsoft Graph / OneDrive / Entra ID simulator on loopback HTTPS, strict like the real services: it refuses
 * what Graph refuses (fragments not a multiple of 320 KiB, wrong or non-contiguous Content-Range, a bearer token on
 * an upload or download URL, `/me` app-only, missing or expired tokens, a stale `If-Match`) and can inject faults
 * (423 locks, 429/503 with Retry-After, dropped fragments, 416, expired sessions, expired tokens, cut downloads, a
 * teammate saving between a download and the next upload).
 *
 * Clients reach it only through ordinary configuration: `authorityHost`, `graphBaseUrl` and `caFile`.
 *
 * This module starts the server and wires the parts: the drive store, the fault engine and the token service into
 * the state (`graph-state.ts`), the request pipeline (`handle-request.ts`) and one route module per endpoint family
 * under `routes/`.
 */
import { mkdir } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSimulatorTls } from '../tls.js';
import { createDriveStore } from './drive-store.js';
import { createFaultEngine, type GraphFaults } from './faults.js';
import { createGraphSimState, type GraphSimulatorStats } from './graph-state.js';
import { handleRequest } from './handle-request.js';
import { eTagOf } from './graph-json.js';
import { findItem } from './item-path.js';
import { createTokenService, type SimulatedClient } from './token-service.js';

export { FRAGMENT_UNIT } from './routes/upload-session-routes.js';
export type { GraphSimulatorStats } from './graph-state.js';

export interface GraphSimulatorOptions {
  /** Where file bodies, versions and TLS material are written. */
  readonly storageDir: string;
  readonly tenantId: string;
  readonly clients: readonly SimulatedClient[];
  /** Access token lifetime (default 3600 s). */
  readonly tokenTtlSeconds?: number;
  /** Users with a OneDrive (default `ops@contoso.com`). */
  readonly users?: readonly string[];
  /** SharePoint sites with a default library, as `host:/sites/Name` (default `contoso.sharepoint.com:/sites/Sales`). */
  readonly sites?: readonly string[];
  /** Storage quota per drive in bytes (default unlimited): createUploadSession beyond it answers 507. */
  readonly quotaBytes?: number;
  /** Idle lifetime of an upload session (default 900 s). */
  readonly uploadSessionIdleSeconds?: number;
  /** Lifetime of a pre-authenticated download URL (default 300 s; each is good for one request anyway). */
  readonly downloadUrlTtlSeconds?: number;
  /** Port (default: any free one). */
  readonly port?: number;
}

export interface SimItemInfo {
  readonly id: string;
  readonly driveId: string;
  readonly path: string;
  readonly size: number;
  /** The eTag Graph would return for it now (changes at every save). */
  readonly eTag: string;
  /** Number of versions including the current one. */
  readonly versions: number;
  /** Where the current bytes are on disk. */
  readonly localPath: string;
}

export interface GraphSimulator {
  /** `https://127.0.0.1:PORT` — give it as authorityHost. */
  readonly authorityHost: string;
  /** `https://127.0.0.1:PORT/v1.0`. */
  readonly graphBaseUrl: string;
  /** CA PEM that clients must trust. */
  readonly caFile: string;
  readonly tenantId: string;
  readonly faults: GraphFaults;
  readonly stats: GraphSimulatorStats;
  /** The id of a drive by user UPN or site address. */
  driveIdFor(selector: { readonly user: string } | { readonly site: string }): string;
  /**
   * Current bytes of a file, by item id, by a location as the destination reports it (`ops@contoso.com/Reports/x.xlsx`,
   * `contoso.sharepoint.com:/sites/Sales/Reports/x.xlsx`, `drive b!.../Reports/x.xlsx`), or by a path in the first
   * drive. Undefined when absent.
   */
  readFile(drivePathOrItemId: string): Promise<Buffer | undefined>;
  /** Metadata of a file or folder, addressed like readFile. */
  itemInfo(drivePathOrItemId: string): SimItemInfo | undefined;
  /** Open upload sessions. */
  openUploadSessions(): number;
  close(): Promise<void>;
}

/** Starts the simulator; resolves once it listens. */
export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  await mkdir(options.storageDir, { recursive: true });
  const tls = await createSimulatorTls(join(options.storageDir, 'tls'));
  const store = await createDriveStore(
    options.storageDir,
    {
      users: options.users ?? ['ops@contoso.com'],
      sites: options.sites ?? ['contoso.sharepoint.com:/sites/Sales'],
      quotaBytes: options.quotaBytes,
    },
    new Date(),
  );
  const faults = createFaultEngine(() => Date.now());

  const server = https.createServer({ key: tls.key, cert: tls.cert });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;
  const tokens = createTokenService({
    origin,
    tenantId: options.tenantId,
    graphOrigin: origin,
    clients: options.clients,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    now: () => Date.now(),
    generation: () => faults.tokenGeneration(),
  });
  const state = createGraphSimState({
    origin,
    store,
    faults,
    tokens,
    uploadSessionIdleSeconds: options.uploadSessionIdleSeconds ?? 900,
    downloadUrlTtlSeconds: options.downloadUrlTtlSeconds ?? 300,
  });
  server.on('request', (req, res) => handleRequest(state, req, res));

  return {
    authorityHost: origin,
    graphBaseUrl: `${origin}/v1.0`,
    caFile: tls.caFile,
    tenantId: options.tenantId,
    faults,
    stats: state.stats,
    driveIdFor(selector) {
      const d = 'user' in selector ? store.driveByUser(selector.user) : store.siteByAddress(selector.site);
      if (d === undefined) throw new Error(`simulator has no drive for ${JSON.stringify(selector)}`);
      return d.id;
    },
    async readFile(ref) {
      const item = findItem(store, ref);
      if (item === undefined || item.isFolder) return undefined;
      return store.readBytes(item);
    },
    itemInfo(ref) {
      const item = findItem(store, ref);
      if (item === undefined) return undefined;
      return {
        id: item.id,
        driveId: item.driveId,
        path: store.pathOf(item),
        size: item.size,
        eTag: eTagOf(item),
        versions: item.history.length + 1,
        localPath: store.diskPathOf(item),
      };
    },
    openUploadSessions: () => state.sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
