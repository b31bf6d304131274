/**
 * The state of one Graph simulator: its address, the drive store, the fault engine, the token service, the open
 * upload sessions and the stats. Created once per simulator by {@link createGraphSimState} and passed to every
 * route, so two simulators in one process never share anything.
 */
import type { DriveStore } from './drive-store.js';
import type { FaultEngine } from './faults.js';
import type { TokenService } from './token-service.js';

export interface GraphSimulatorStats {
  requests: number;
  readonly byOperation: Record<string, number>;
  tokensIssued: number;
  uploadSessionsCreated: number;
  uploadSessionsDeleted: number;
  fragmentsAccepted: number;
  largestFragment: number;
  /** Size of every accepted fragment, in arrival order. */
  readonly fragmentSizes: number[];
  simpleUploads: number;
  /** Requests to an upload URL that carried an Authorization header (refused with 401). */
  authorizationOnUploadUrl: number;
  /** `GET …/content` answered with a 302 to a pre-authenticated download URL. */
  downloadRedirects: number;
  /** Downloads served in full or in part (a fault may cut one). */
  downloadsServed: number;
  /** Requests to a download URL that carried an Authorization header: a protocol violation, refused with 400. */
  authorizationOnDownloadUrl: number;
  /** Writes refused because their If-Match no longer matched (412). */
  preconditionFailures: number;
  /** New versions a simulated teammate saved (see GraphFaults.teammateSavesBeforeNextUpload). */
  teammateSaves: number;
  /** Statuses ≥ 400 the simulator answered, with the operation. */
  readonly errors: { op: string; status: number }[];
  /** Every answered request: method, path and query (upload URLs shown as `/up/…`, never their credential), status. */
  readonly log: { method: string; target: string; status: number }[];
}

/** A resumable upload in progress: bytes received so far go to `tempPath` until the last fragment commits them. */
export interface UploadSession {
  readonly id: string;
  /** The `tempauth` credential of the upload URL. */
  readonly secret: string;
  readonly driveId: string;
  readonly parentId: string;
  readonly name: string;
  readonly size: number;
  readonly conflictBehavior: string;
  readonly tempPath: string;
  received: number;
  expiresAtMs: number;
}

/** A pre-authenticated download URL: good once, for a short while, for one item's current content. */
export interface DownloadGrant {
  readonly itemId: string;
  readonly expiresAtMs: number;
}

export interface GraphSimState {
  /** `https://127.0.0.1:PORT`: authority host, Graph host and upload URL host at once. */
  readonly origin: string;
  readonly store: DriveStore;
  readonly faults: FaultEngine;
  readonly tokens: TokenService;
  /** Open upload sessions by id. */
  readonly sessions: Map<string, UploadSession>;
  /** Idle lifetime of an upload session; each accepted fragment extends it. */
  readonly uploadSessionIdleMs: number;
  /** Download URLs handed out and not used yet, by their token. */
  readonly downloads: Map<string, DownloadGrant>;
  /** Lifetime of a download URL. */
  readonly downloadUrlTtlMs: number;
  readonly stats: GraphSimulatorStats;
}

/** Fresh state around the simulator's parts: no upload session open, every counter at zero. */
export function createGraphSimState(parts: {
  readonly origin: string;
  readonly store: DriveStore;
  readonly faults: FaultEngine;
  readonly tokens: TokenService;
  readonly uploadSessionIdleSeconds: number;
  readonly downloadUrlTtlSeconds: number;
}): GraphSimState {
  return {
    origin: parts.origin,
    store: parts.store,
    faults: parts.faults,
    tokens: parts.tokens,
    sessions: new Map(),
    uploadSessionIdleMs: parts.uploadSessionIdleSeconds * 1000,
    downloads: new Map(),
    downloadUrlTtlMs: parts.downloadUrlTtlSeconds * 1000,
    stats: {
      requests: 0,
      byOperation: {},
      tokensIssued: 0,
      uploadSessionsCreated: 0,
      uploadSessionsDeleted: 0,
      fragmentsAccepted: 0,
      largestFragment: 0,
      fragmentSizes: [],
      simpleUploads: 0,
      authorizationOnUploadUrl: 0,
      downloadRedirects: 0,
      downloadsServed: 0,
      authorizationOnDownloadUrl: 0,
      preconditionFailures: 0,
      teammateSaves: 0,
      errors: [],
      log: [],
    },
  };
}

/** Counts one request of operation `op` in `stats.byOperation`. */
export function countOperation(state: GraphSimState, op: string): void {
  state.stats.byOperation[op] = (state.stats.byOperation[op] ?? 0) + 1;
}
