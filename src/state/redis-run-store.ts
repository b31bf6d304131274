/**
 * Run history in Redis, for queue mode: every `serve` and `worker` process, on any machine, reads and writes the same
 * history. Redis rather than a shared SQLite file because SQLite's locking is unsafe on network filesystems (NFS,
 * SMB, EFS) with writers on several hosts — the file can be corrupted — and queue mode already needs Redis.
 *
 * Layout (all keys under `prefix`):
 * - `<prefix>:run:<runId>` hash: `json` (the RunReport), `status`, `exportId`, `rev` (bumped by every write);
 * - `<prefix>:runs` sorted set of run ids by start time (all exports), capped at `maxRuns`;
 * - `<prefix>:runs:export:<exportId>` sorted set per export, capped at `maxRunsPerExport`;
 * - `<prefix>:runs:running` set of run ids whose status is `running` (for `markInterrupted`).
 * Trimming removes the oldest runs' hashes with their index entries, atomically (Lua). A write reads the record,
 * folds the attempt in (`run-attempts.ts`) and writes it back only if `rev` did not move meanwhile (else it reads
 * again): two workers writing attempts of one run never lose each other's write.
 */
import type { Redis } from 'ioredis';
import {
  blankRunReport,
  parseStoredRunReport,
  type RunReport,
  type RunStatus,
  type RunTrigger,
} from '../contracts/run-report.js';
import type { RunQuery, RunStore } from '../contracts/run-store.js';
import { attemptRunId, parseAttemptRunId } from '../contracts/run-id.js';
import { foldAttemptWrite, interruptAttempt } from './run-attempts.js';

export interface RedisRunStoreOptions {
  /** Runs kept per export (oldest dropped first). Default 500. */
  readonly maxRunsPerExport?: number;
  /** Runs kept over all exports. Default 20 000. */
  readonly maxRuns?: number;
  /** Time source for `markInterrupted` (finishedAt). */
  readonly now?: () => Date;
}

/** Adds or replaces a run and its index entries (if its `rev` is still the one read), then trims both indexes. */
const UPSERT_SCRIPT = `
local runKey, exportSet, globalSet, runningSet = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local json, score, runId, status, exportId = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxPerExport, maxGlobal, prefix = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local rev = tonumber(redis.call('HGET', runKey, 'rev') or '0')
if redis.call('EXISTS', runKey) == 0 then rev = -1 end
if rev ~= tonumber(ARGV[9]) then return 0 end
redis.call('HSET', runKey, 'json', json, 'status', status, 'exportId', exportId, 'rev', math.max(rev, 0) + 1)
redis.call('ZADD', exportSet, score, runId)
redis.call('ZADD', globalSet, score, runId)
if status == 'running' then redis.call('SADD', runningSet, runId) else redis.call('SREM', runningSet, runId) end
local function drop(id, fromSet)
  local key = prefix .. ':run:' .. id
  local e = redis.call('HGET', key, 'exportId')
  redis.call('DEL', key)
  redis.call('SREM', runningSet, id)
  redis.call('ZREM', globalSet, id)
  if e then redis.call('ZREM', prefix .. ':runs:export:' .. e, id) end
  redis.call('ZREM', fromSet, id)
end
local n = redis.call('ZCARD', exportSet)
if n > maxPerExport then
  for _, id in ipairs(redis.call('ZRANGE', exportSet, 0, n - maxPerExport - 1)) do drop(id, exportSet) end
end
n = redis.call('ZCARD', globalSet)
if n > maxGlobal then
  for _, id in ipairs(redis.call('ZRANGE', globalSet, 0, n - maxGlobal - 1)) do drop(id, globalSet) end
end
return 1
`;

const PAGE = 100;

/** The keys of the layout above. */
interface RunKeys {
  readonly run: (runId: string) => string;
  readonly exportSet: (exportId: string) => string;
  readonly global: string;
  readonly running: string;
}

/** The stored runs and their indexes: atomic upsert-and-trim, pipelined reads, paged walks of an index. */
interface RunRecords {
  readonly keys: RunKeys;
  /** Writes `report` if the record's revision is still `rev` (-1: no record yet); true when it was written. */
  readonly upsert: (report: RunReport, rev: number) => Promise<boolean>;
  /** The record of a run and its revision (-1 when there is none). */
  readonly readWithRev: (runId: string) => Promise<{ report: RunReport | undefined; rev: number }>;
  /** The runs of these ids that still exist, in the same order. */
  readonly readRuns: (runIds: readonly string[]) => Promise<RunReport[]>;
  /** Walks an index newest first, page by page, until `limit` runs match. */
  readonly scan: (setKey: string, limit: number, accept: (r: RunReport) => boolean) => Promise<RunReport[]>;
}

function createRunRecords(
  redis: Redis,
  prefix: string,
  limits: { readonly maxRunsPerExport: number; readonly maxRuns: number },
): RunRecords {
  const keys: RunKeys = {
    run: (runId: string) => `${prefix}:run:${runId}`,
    exportSet: (exportId: string) => `${prefix}:runs:export:${exportId}`,
    global: `${prefix}:runs`,
    running: `${prefix}:runs:running`,
  };

  async function upsert(report: RunReport, rev: number): Promise<boolean> {
    const score = Date.parse(report.startedAt);
    if (Number.isNaN(score)) {
      throw new Error(
        `run ${report.runId}: startedAt '${report.startedAt}' is not an ISO 8601 date; pass new Date().toISOString()`,
      );
    }
    const result = await redis.eval(
      UPSERT_SCRIPT,
      4,
      keys.run(report.runId),
      keys.exportSet(report.exportId),
      keys.global,
      keys.running,
      JSON.stringify(report),
      String(score),
      report.runId,
      report.status,
      report.exportId,
      String(limits.maxRunsPerExport),
      String(limits.maxRuns),
      prefix,
      String(rev),
    );
    return result === 1;
  }

  async function readWithRev(runId: string): Promise<{ report: RunReport | undefined; rev: number }> {
    const [json, rev] = await redis.hmget(keys.run(runId), 'json', 'rev');
    if (typeof json !== 'string') return { report: undefined, rev: -1 };
    return { report: parseStoredReport(json, runId, prefix), rev: Number(rev ?? '0') || 0 };
  }

  async function readRuns(runIds: readonly string[]): Promise<RunReport[]> {
    if (runIds.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of runIds) pipeline.hget(keys.run(id), 'json');
    const results = (await pipeline.exec()) ?? [];
    const out: RunReport[] = [];
    results.forEach(([err, value], i) => {
      if (err) throw err;
      // A run trimmed between the index read and this read is simply gone.
      if (typeof value !== 'string') return;
      out.push(parseStoredReport(value, runIds[i] ?? '?', prefix));
    });
    return out;
  }

  async function scan(setKey: string, limit: number, accept: (r: RunReport) => boolean): Promise<RunReport[]> {
    const found: RunReport[] = [];
    for (let start = 0; found.length < limit; start += PAGE) {
      const ids = await redis.zrevrange(setKey, start, start + PAGE - 1);
      for (const run of await readRuns(ids)) {
        if (accept(run)) found.push(run);
        if (found.length >= limit) break;
      }
      if (ids.length < PAGE) break;
    }
    return found;
  }

  return { keys, upsert, readWithRev, readRuns, scan };
}

/** Attempts at a compare-and-set write before giving up (each retry means another writer just wrote the run). */
const MAX_CAS_ATTEMPTS = 20;

/**
 * Creates a RunStore on a connected ioredis client. The client is borrowed: `close()` does not disconnect it (the
 * caller owns the connection, which is usually shared with other queue code).
 */
export function createRedisRunStore(redis: Redis, prefix: string, options: RedisRunStoreOptions = {}): RunStore {
  const now = options.now ?? (() => new Date());
  const records = createRunRecords(redis, prefix, {
    maxRunsPerExport: options.maxRunsPerExport ?? 500,
    maxRuns: options.maxRuns ?? 20_000,
  });
  const { keys, readRuns, scan } = records;

  /** Reads the run, lets `change` compute the new record (undefined: leave it), writes it if nobody wrote meanwhile. */
  async function update(runId: string, change: (r: RunReport | undefined) => RunReport | undefined): Promise<boolean> {
    for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
      const { report, rev } = await records.readWithRev(runId);
      const next = change(report);
      if (next === undefined) return false;
      if (await records.upsert(next, rev)) return true;
    }
    throw new Error(`run ${runId}: too many concurrent writes to its Redis record; try again`);
  }
  const write = async (report: RunReport): Promise<void> => {
    await update(parseAttemptRunId(report.runId).runId, (existing) => foldAttemptWrite(existing, report));
  };
  const interrupted =
    (message: string) =>
    (run: RunReport): RunReport => {
      const finishedAt = now();
      return {
        ...run,
        status: 'failed',
        finishedAt: finishedAt.toISOString(),
        durationMs: Math.max(0, finishedAt.getTime() - Date.parse(run.startedAt)),
        error: { code: 'INTERRUPTED', message },
      };
    };

  return {
    async insertRun(run: {
      runId: string;
      exportId: string;
      trigger: RunTrigger;
      startedAt: string;
      status?: RunStatus;
      attempt?: number;
      worker?: string;
    }) {
      await write(
        blankRunReport({
          runId: run.runId,
          exportId: run.exportId,
          trigger: run.trigger,
          status: run.status ?? 'running',
          startedAt: run.startedAt,
          ...(run.attempt === undefined ? {} : { attempt: run.attempt }),
          ...(run.worker === undefined ? {} : { worker: run.worker }),
        }),
      );
    },

    async finishRun(report) {
      await write(report);
    },

    async getRun(runId) {
      const [run] = await readRuns([parseAttemptRunId(runId).runId]);
      return run;
    },

    async listRuns(query: RunQuery) {
      const limit = query.limit ?? 50;
      const setKey = query.exportId === undefined ? keys.global : keys.exportSet(query.exportId);
      return scan(
        setKey,
        limit,
        (r) =>
          (query.status === undefined || r.status === query.status) &&
          (query.trigger === undefined || r.trigger.kind === query.trigger),
      );
    },

    async lastSuccess(exportId) {
      const [run] = await scan(
        keys.exportSet(exportId),
        1,
        (r) => r.status === 'succeeded' || r.status === 'unchanged',
      );
      return run;
    },

    async markInterrupted(message, filter) {
      // Without a filter every `running` run of the whole fleet would be marked; that is only right when no process
      // is running anything (e.g. after a full restart of a single-node deployment). Queue workers always pass ids.
      const ids = filter?.runIds ?? (await redis.smembers(keys.running));
      let marked = 0;
      for (const id of ids) {
        const changed = await update(parseAttemptRunId(id).runId, (run) => {
          if (run === undefined) return undefined;
          // Without ids, every run still running: its latest attempt is the one that died.
          const attemptId = filter?.runIds === undefined ? attemptRunId(run.runId, run.attempt ?? 1) : id;
          // Compare-and-set: a run that finished meanwhile keeps its real outcome.
          return interruptAttempt(run, attemptId, interrupted(message), now());
        });
        if (changed) marked += 1;
      }
      return marked;
    },

    async close() {
      // The connection is borrowed; nothing to release.
    },
  };
}

function parseStoredReport(json: string, runId: string, prefix: string): RunReport {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`run history entry ${prefix}:run:${runId} in Redis is not valid JSON; delete that key`, {
      cause: err,
    });
  }
  const parsed = parseStoredRunReport(raw);
  if (!parsed.ok) {
    throw new Error(
      `run history entry ${prefix}:run:${runId} in Redis has an unexpected shape (${parsed.problem}); delete that key`,
    );
  }
  return parsed.report;
}
