/**
 * Run history in Redis, for queue mode: every `serve` and `worker` process, on any machine, reads and writes the same
 * history. Redis rather than a shared SQLite file because SQLite's locking is unsafe on network filesystems (NFS,
 * SMB, EFS) with writers on several hosts — the file can be corrupted — and queue mode already needs Redis.
 *
 * Layout (all keys under `prefix`):
 * - `<prefix>:run:<runId>` hash: `json` (the RunReport), `status`, `exportId`;
 * - `<prefix>:runs` sorted set of run ids by start time (all exports), capped at `maxRuns`;
 * - `<prefix>:runs:export:<exportId>` sorted set per export, capped at `maxRunsPerExport`;
 * - `<prefix>:runs:running` set of run ids whose status is `running` (for `markInterrupted`).
 * Trimming removes the oldest runs' hashes with their index entries, atomically (Lua).
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

export interface RedisRunStoreOptions {
  /** Runs kept per export (oldest dropped first). Default 500. */
  readonly maxRunsPerExport?: number;
  /** Runs kept over all exports. Default 20 000. */
  readonly maxRuns?: number;
  /** Time source for `markInterrupted` (finishedAt). */
  readonly now?: () => Date;
}

/** Adds or replaces a run and its index entries, then trims both indexes. */
const UPSERT_SCRIPT = `
local runKey, exportSet, globalSet, runningSet = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local json, score, runId, status, exportId = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxPerExport, maxGlobal, prefix = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local onlyIfRunning = ARGV[9] == '1'
if onlyIfRunning and redis.call('HGET', runKey, 'status') ~= 'running' then return 0 end
redis.call('HSET', runKey, 'json', json, 'status', status, 'exportId', exportId)
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
  /** Writes `report` (only if it is still `running` when `onlyIfRunning`); true when it was written. */
  readonly upsert: (report: RunReport, onlyIfRunning: boolean) => Promise<boolean>;
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

  async function upsert(report: RunReport, onlyIfRunning: boolean): Promise<boolean> {
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
      onlyIfRunning ? '1' : '0',
    );
    return result === 1;
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

  return { keys, upsert, readRuns, scan };
}

/**
 * Creates a RunStore on a connected ioredis client. The client is borrowed: `close()` does not disconnect it (the
 * caller owns the connection, which is usually shared with other queue code).
 */
export function createRedisRunStore(redis: Redis, prefix: string, options: RedisRunStoreOptions = {}): RunStore {
  const now = options.now ?? (() => new Date());
  const { keys, upsert, readRuns, scan } = createRunRecords(redis, prefix, {
    maxRunsPerExport: options.maxRunsPerExport ?? 500,
    maxRuns: options.maxRuns ?? 20_000,
  });

  return {
    async insertRun(run: {
      runId: string;
      exportId: string;
      trigger: RunTrigger;
      startedAt: string;
      status?: RunStatus;
      attempt?: number;
    }) {
      await upsert(
        blankRunReport({
          runId: run.runId,
          exportId: run.exportId,
          trigger: run.trigger,
          status: run.status ?? 'running',
          startedAt: run.startedAt,
          ...(run.attempt === undefined ? {} : { attempt: run.attempt }),
        }),
        false,
      );
    },

    async finishRun(report) {
      await upsert(report, false);
    },

    async getRun(runId) {
      const [run] = await readRuns([runId]);
      return run;
    },

    async listRuns(query: RunQuery) {
      const limit = query.limit ?? 50;
      const setKey = query.exportId === undefined ? keys.global : keys.exportSet(query.exportId);
      return scan(setKey, limit, (r) => query.status === undefined || r.status === query.status);
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
      for (const run of await readRuns(ids)) {
        if (run.status !== 'running') continue;
        const finishedAt = now();
        const updated: RunReport = {
          ...run,
          status: 'failed',
          finishedAt: finishedAt.toISOString(),
          durationMs: Math.max(0, finishedAt.getTime() - Date.parse(run.startedAt)),
          error: { code: 'INTERRUPTED', message },
        };
        // Compare-and-set: a run that finished meanwhile keeps its real outcome.
        if (await upsert(updated, true)) marked += 1;
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
