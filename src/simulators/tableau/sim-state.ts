/**
 * The state of one Tableau simulator: its options with defaults applied, the seeded content, sessions, used JWT
 * ids, issued tokens, the fault queue and the stats. Created once per simulator by {@link createTableauSimState} and
 * passed to every route, so two simulators in one process never share anything.
 */
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../../shared/xml-entities.js';
import type { PipelineOptions } from '../demo-data/pipeline-generator.js';
import type { FaultTarget, QueuedFault } from './fault-injection.js';
import { buildSimContent, type SimWorkbook } from './sim-content.js';
import { createTableauReplies, type TableauReplies } from './sim-reply.js';
import { liveSessions, type Session } from './sim-sessions.js';
import { createXmlWriter, type XmlStyle, type XmlWriter } from './sim-xml.js';

export interface SimUser {
  readonly name: string;
  readonly password?: string;
}

export interface SimPat {
  readonly name: string;
  readonly secret: string;
  readonly user: string;
}

export interface SimConnectedApp {
  readonly clientId: string;
  readonly secretId: string;
  readonly secretValue: string;
}

export interface TableauSimulatorOptions {
  /** Site contentUrls that exist (default `['sales']`); `''` is the Default site. Every site holds the same content. */
  readonly sites?: readonly string[];
  readonly users?: readonly SimUser[];
  readonly pats?: readonly SimPat[];
  readonly connectedApps?: readonly SimConnectedApp[];
  /** Highest REST API version served (default `3.24`); below `2.4` the server behaves like a pre-serverInfo one. */
  readonly restApiVersion?: string;
  readonly productVersion?: string;
  /** Session lifetime (default 240 min, Tableau Server's idle limit). */
  readonly sessionTtlMs?: number;
  /** Rows of the Opportunities worksheet (default 200), seed and as-of date of the demo pipeline. */
  readonly rowCount?: number;
  readonly seed?: number;
  readonly asOf?: Date;
  /** Namespace style of XML answers: default namespace (Server) or `ns0:` prefixes (Cloud). */
  readonly xmlStyle?: XmlStyle;
  /** Answer sign-in on 127.0.0.1 with a 302 to `localhost` (as Tableau Cloud redirects to its pod). */
  readonly podRedirect?: boolean;
  /** Add a second `Sales Pipeline` workbook in this project (names are not unique on real sites). */
  readonly duplicateSalesPipelineIn?: string;
  /** Where to write the CA; a fresh temp folder (removed on close) by default. */
  readonly tlsDir?: string;
  /** Serve the Metadata API (default true); false answers as a Tableau Server where it is disabled. */
  readonly metadataApi?: boolean;
  /** When the extracts were last refreshed; default one hour before each request (a healthy nightly refresh). */
  readonly extractRefreshedAt?: Date;
}

/** The Metadata API's switch and the extracts' refresh time; the simulator's setters change them at run time. */
export interface SimMetadataState {
  enabled: boolean;
  extractRefreshedAt: Date | undefined;
}

export interface SimRequestLogEntry {
  readonly method: string;
  readonly path: string;
  /** Raw query string (never carries credentials: tokens travel in headers and bodies). */
  readonly query: string;
  readonly endpoint: FaultTarget | 'other';
  status: number;
}

export interface TableauSimulatorStats {
  signIns: number;
  failedSignIns: number;
  signOuts: number;
  /** Live (not expired, not signed out, not replaced) sessions now. */
  readonly activeSessions: number;
  /** Highest number of sessions one PAT would have held at once (a PAT sign-in while its session is live counts 2). */
  maxConcurrentSessionsPerPat: number;
  /** PAT sessions killed because the same PAT signed in again. */
  sessionsReplaced: number;
  currentDataRequests: number;
  maxConcurrentDataRequests: number;
  readonly requests: SimRequestLogEntry[];
}

/** The options with their defaults applied. */
export interface TableauSimConfig {
  readonly users: readonly SimUser[];
  readonly pats: readonly SimPat[];
  readonly connectedApps: readonly SimConnectedApp[];
  /** Highest REST API version served. */
  readonly maxApi: string;
  readonly productVersion: string;
  readonly sessionTtlMs: number;
  readonly pipeline: PipelineOptions;
  readonly podRedirect: boolean;
}

export interface TableauSimState {
  readonly config: TableauSimConfig;
  /** `https://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly port: number;
  readonly w: XmlWriter;
  readonly replies: TableauReplies;
  readonly workbooks: readonly SimWorkbook[];
  /**
   * The data the views serve now: the configured pipeline until `setPipeline` changes it (a soak or a test whose
   * data changes between nights, as a real site's does).
   */
  pipeline: PipelineOptions;
  /** Site LUID by contentUrl. */
  readonly siteIds: ReadonlyMap<string, string>;
  /** Sessions by token (expired ones are dropped lazily, see `liveSessions`). */
  readonly sessions: Map<string, Session>;
  /** Connected-app JWT ids already used: Tableau refuses a replayed `jti`. */
  readonly usedJtis: Set<string>;
  /** Every session token issued, in order. */
  readonly issued: string[];
  readonly faultQueue: QueuedFault[];
  readonly stats: TableauSimulatorStats;
  readonly metadata: SimMetadataState;
  readonly signInParser: XMLParser;
}

const DEFAULTS = {
  sites: ['sales'],
  users: [{ name: 'ops@example.com', password: 'ops-password' }, { name: 'analyst@example.com' }],
  pats: [{ name: 'export-bot', secret: 'pat-secret-0123456789', user: 'ops@example.com' }],
  connectedApps: [
    { clientId: 'sim-client-id', secretId: 'sim-secret-id', secretValue: 'sim-connected-app-secret-value' },
  ],
  restApiVersion: '3.24',
  productVersion: '2024.2.0',
  sessionTtlMs: 240 * 60_000,
  rowCount: 200,
  seed: 42,
  asOf: new Date(Date.UTC(2026, 10, 27)),
};

/** Fresh state for a simulator listening on `port` of 127.0.0.1, with the options' defaults applied. */
export function createTableauSimState(options: TableauSimulatorOptions, port: number): TableauSimState {
  const sites = options.sites ?? DEFAULTS.sites;
  const w = createXmlWriter(options.xmlStyle ?? 'default');
  const sessions = new Map<string, Session>();
  const pipeline: PipelineOptions = {
    seed: options.seed ?? DEFAULTS.seed,
    count: options.rowCount ?? DEFAULTS.rowCount,
    asOf: options.asOf ?? DEFAULTS.asOf,
  };
  return {
    config: {
      users: options.users ?? DEFAULTS.users,
      pats: options.pats ?? DEFAULTS.pats,
      connectedApps: options.connectedApps ?? DEFAULTS.connectedApps,
      maxApi: options.restApiVersion ?? DEFAULTS.restApiVersion,
      productVersion: options.productVersion ?? DEFAULTS.productVersion,
      sessionTtlMs: options.sessionTtlMs ?? DEFAULTS.sessionTtlMs,
      pipeline,
      podRedirect: options.podRedirect === true,
    },
    baseUrl: `https://127.0.0.1:${port}`,
    port,
    w,
    replies: createTableauReplies(w),
    workbooks: buildSimContent({ duplicateSalesPipelineIn: options.duplicateSalesPipelineIn }),
    pipeline,
    siteIds: new Map(sites.map((s, i) => [s, `6b7179ba-0000-4000-8000-${String(i + 1).padStart(12, '0')}`])),
    sessions,
    usedJtis: new Set<string>(),
    issued: [],
    faultQueue: [],
    metadata: { enabled: options.metadataApi ?? true, extractRefreshedAt: options.extractRefreshedAt },
    stats: {
      signIns: 0,
      failedSignIns: 0,
      signOuts: 0,
      get activeSessions() {
        return liveSessions(sessions).length;
      },
      maxConcurrentSessionsPerPat: 0,
      sessionsReplaced: 0,
      currentDataRequests: 0,
      maxConcurrentDataRequests: 0,
      requests: [],
    },
    signInParser: new XMLParser({
      ...SAFE_XML_PARSER_OPTIONS,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      removeNSPrefix: true,
      parseTagValue: false,
    }),
  };
}
