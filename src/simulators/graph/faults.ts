/**
 * Fault injection for the Graph simulator: rules consulted on every request, each firing a bounded number of times
 * or until a deadline. Tests and the demo use the helpers (lock, throttle, dropFragment...), which build rules.
 */

/** What a request does, as the simulator classifies it. */
export type GraphOperation =
  | 'token'
  | 'site'
  | 'drive'
  | 'item'
  | 'children'
  | 'content'
  | 'contentDownload'
  | 'createUploadSession'
  | 'uploadFragment'
  | 'uploadStatus'
  | 'uploadCancel'
  | 'download'
  | 'versions';

export interface FaultRule {
  /** Operations the rule applies to; `graph` = every Graph API call (not token, not upload URLs). */
  readonly ops: readonly (GraphOperation | 'graph')[];
  /** Only requests about this drive-relative path (e.g. `Reports/Sales Pipeline.xlsx`), case-insensitive. */
  readonly path?: string | undefined;
  /** HTTP status to answer (ignored for `reset-*` and `expire-session`). */
  readonly status?: number;
  readonly retryAfter?: string;
  /** Graph error code chain, outermost first (e.g. ['notAllowed', 'resourceLocked']). */
  readonly codes?: readonly string[];
  readonly message?: string;
  /**
   * `respond` (default) answers with `status`; `reset-before-store` drops the connection without storing the
   * fragment; `reset-after-store` stores it, then drops the connection; `expire-session` deletes the upload session
   * and answers 404; `cut-body` (downloads) sends half of the content, then drops the connection.
   */
  readonly action?: 'respond' | 'reset-before-store' | 'reset-after-store' | 'expire-session' | 'cut-body';
  /** Let this many matching requests pass before firing. */
  readonly skip?: number;
  /** Fire this many times (default 1), unless `untilMs` is set. */
  readonly times?: number;
  /** Fire on every matching request until this epoch-ms time. */
  readonly untilMs?: number;
}

export interface FiredFault {
  readonly rule: FaultRule;
}

/** A save a simulated teammate makes just before the next upload to a file. */
export interface TeammateSave {
  /** The file, as an item id, a location (`ops@contoso.com/Reports/x.xlsx`) or a drive-relative path. */
  readonly ref: string;
  /** The bytes they save (a real workbook, supplied by the test). */
  readonly bytes: Buffer;
}

export interface GraphFaults {
  /** Adds a raw rule. */
  add(rule: FaultRule): void;
  /** 423 Locked (notAllowed/resourceLocked) on uploads to `path`, for N attempts or for `forMs` milliseconds. */
  lock(path: string, options: { readonly attempts?: number; readonly forMs?: number }): void;
  /** 429 or 503 with Retry-After on the given operations. */
  throttle(options: {
    readonly ops: FaultRule['ops'];
    readonly status?: 429 | 503;
    readonly retryAfter?: string;
    readonly times?: number;
    readonly skip?: number;
  }): void;
  /** Drops the connection of an upload fragment, before or after storing it. */
  dropFragment(options: {
    readonly when: 'before-store' | 'after-store';
    readonly skip?: number;
    readonly times?: number;
  }): void;
  /** Answers 416 to an upload fragment (without storing it). */
  rangeError(options?: { readonly skip?: number; readonly times?: number }): void;
  /** Deletes the upload session when a fragment arrives, answering 404. */
  expireSession(options?: { readonly skip?: number }): void;
  /** Invalidates every access token issued so far: the next Graph call with one gets 401. */
  expireTokens(): void;
  /**
   * A teammate saves `bytes` as a new version (new eTag) of the file `pathOrItemId` at the next upload attempt to it
   * (`PUT …/content` or `createUploadSession`), just before that request's If-Match is evaluated: an upload that
   * read the file earlier gets 412. A missing file is created (in an existing folder), for create-only writes.
   */
  teammateSavesBeforeNextUpload(pathOrItemId: string, bytes: Buffer): void;
  /** 503 (or `status`) to download URL requests, so downloads are retried. */
  failDownload(options?: { readonly status?: number; readonly times?: number; readonly skip?: number }): void;
  /** Cuts download bodies half-way (connection dropped after half the bytes). */
  cutDownload(options?: { readonly times?: number; readonly skip?: number }): void;
  /** Removes all pending rules and teammate saves. */
  clear(): void;
  /** Rules still pending (for assertions). */
  pending(): readonly FaultRule[];
  /** Teammate saves still waiting for an upload. */
  pendingTeammateSaves(): readonly TeammateSave[];
}

interface LiveRule {
  readonly rule: FaultRule;
  skip: number;
  times: number;
}

export interface FaultEngine extends GraphFaults {
  /** Finds the rule that fires for this request, consuming it. */
  take(op: GraphOperation, path: string | undefined): FaultRule | undefined;
  /** Token generation: tokens from older generations are invalid. */
  tokenGeneration(): number;
  /** The first pending teammate save whose ref `refersTo` the file being uploaded, consuming it. */
  takeTeammateSave(refersTo: (ref: string) => boolean): TeammateSave | undefined;
}

/** Creates the fault engine of one simulator instance. */
export function createFaultEngine(now: () => number): FaultEngine {
  let rules: LiveRule[] = [];
  let generation = 0;
  let saves: TeammateSave[] = [];

  const add = (rule: FaultRule): void => {
    rules.push({ rule, skip: rule.skip ?? 0, times: rule.times ?? 1 });
  };

  const matches = (r: LiveRule, op: GraphOperation, path: string | undefined): boolean => {
    const opOk = r.rule.ops.includes(op) || (r.rule.ops.includes('graph') && isGraphApiOp(op));
    if (!opOk) return false;
    if (
      r.rule.path !== undefined &&
      (path === undefined || path.toLowerCase() !== r.rule.path.replace(/^\/+/, '').toLowerCase())
    )
      return false;
    return true;
  };

  const take = (op: GraphOperation, path: string | undefined): FaultRule | undefined => {
    const t = now();
    rules = rules.filter((r) => (r.rule.untilMs === undefined ? r.times > 0 : r.rule.untilMs > t));
    for (const r of rules) {
      if (!matches(r, op, path)) continue;
      if (r.skip > 0) {
        r.skip--;
        continue;
      }
      if (r.rule.untilMs === undefined) r.times--;
      return r.rule;
    }
    return undefined;
  };

  return {
    add,
    take,
    tokenGeneration: () => generation,
    takeTeammateSave(refersTo) {
      const index = saves.findIndex((s) => refersTo(s.ref));
      if (index === -1) return undefined;
      const [save] = saves.splice(index, 1);
      return save;
    },
    teammateSavesBeforeNextUpload(ref, bytes) {
      saves.push({ ref, bytes: Buffer.from(bytes) });
    },
    failDownload(options = {}) {
      const status = options.status ?? 503;
      add({
        ops: ['download'],
        status,
        codes: status === 503 ? ['serviceNotAvailable'] : ['generalException'],
        message: 'Injected download failure',
        times: options.times ?? 1,
        skip: options.skip ?? 0,
      });
    },
    cutDownload(options = {}) {
      add({ ops: ['download'], action: 'cut-body', times: options.times ?? 1, skip: options.skip ?? 0 });
    },
    lock(path, options) {
      const base = {
        ops: ['content', 'createUploadSession'] as const,
        path,
        status: 423,
        codes: ['notAllowed', 'resourceLocked'],
        message: 'The resource you are attempting to access is locked',
      };
      if (options.forMs !== undefined) add({ ...base, untilMs: now() + options.forMs });
      else add({ ...base, times: options.attempts ?? 1 });
    },
    throttle(options) {
      const status = options.status ?? 429;
      add({
        ops: options.ops,
        status,
        retryAfter: options.retryAfter ?? '1',
        codes: status === 429 ? ['TooManyRequests'] : ['serviceNotAvailable'],
        message: status === 429 ? 'Too many requests' : 'Service unavailable',
        times: options.times ?? 1,
        skip: options.skip ?? 0,
      });
    },
    dropFragment(options) {
      add({
        ops: ['uploadFragment'],
        action: options.when === 'before-store' ? 'reset-before-store' : 'reset-after-store',
        times: options.times ?? 1,
        skip: options.skip ?? 0,
      });
    },
    rangeError(options = {}) {
      add({
        ops: ['uploadFragment'],
        status: 416,
        codes: ['invalidRange'],
        message: 'The requested range is not satisfiable',
        times: options.times ?? 1,
        skip: options.skip ?? 0,
      });
    },
    expireSession(options = {}) {
      add({ ops: ['uploadFragment'], action: 'expire-session', skip: options.skip ?? 0 });
    },
    expireTokens() {
      generation++;
    },
    clear() {
      rules = [];
      saves = [];
    },
    pending: () => rules.filter((r) => r.times > 0 || (r.rule.untilMs ?? 0) > now()).map((r) => r.rule),
    pendingTeammateSaves: () => [...saves],
  };
}

function isGraphApiOp(op: GraphOperation): boolean {
  return (
    op !== 'token' && op !== 'uploadFragment' && op !== 'uploadStatus' && op !== 'uploadCancel' && op !== 'download'
  );
}
