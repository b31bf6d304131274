/**
 * The run processor records how an attempt ended even when the pipeline's own write of the end failed (Redis
 * restarting while a run finished): found by the soak (`npm run soak`), where such runs stayed `running` for good.
 */
import Database from 'better-sqlite3';
import type { Job } from 'bullmq';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { blankRunReport, type RunReport } from '../../contracts/run-report.js';
import type { RunStore } from '../../contracts/run-store.js';
import { createSqliteRunStore } from '../../state/sqlite-run-store.js';
import { createRunProcessor } from './run-processor.js';

const dbs: Database.Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

/** A real (SQLite) run store whose reads and writes fail while `down` is true, as a Redis store's do during a restart. */
function flakyStore(): { store: RunStore; down: { value: boolean }; finishCalls: () => number } {
  const db = new Database(':memory:');
  dbs.push(db);
  const real = createSqliteRunStore(db);
  const down = { value: false };
  let finishCalls = 0;
  const guard = <T>(f: () => Promise<T>): Promise<T> =>
    down.value ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) : f();
  return {
    down,
    finishCalls: () => finishCalls,
    store: {
      ...real,
      insertRun: (run) => guard(() => real.insertRun(run)),
      finishRun: (report) => {
        finishCalls++;
        return guard(() => real.finishRun(report));
      },
      getRun: (id) => guard(() => real.getRun(id)),
    },
  };
}

function job(id: string, attemptsStarted: number): Job {
  return {
    id,
    attemptsStarted,
    data: { exportId: 'sales', trigger: { kind: 'manual', by: 'admin' } },
  } as unknown as Job;
}

function finished(runId: string, attempt: number): RunReport {
  return blankRunReport({
    runId,
    exportId: 'sales',
    trigger: { kind: 'manual', by: 'admin' },
    status: 'succeeded',
    startedAt: '2026-12-02T05:41:26.000Z',
    finishedAt: '2026-12-02T05:41:28.000Z',
    durationMs: 2_000,
    rows: 1007,
    bytes: 984_679,
    attempt,
  });
}

describe('createRunProcessor: recording the end of a run', () => {
  it('writes the end again once the store answers, when the pipeline could not record it', async () => {
    const { store, down } = flakyStore();
    const sleeps: number[] = [];
    const process = createRunProcessor({
      store,
      logger: pino({ level: 'silent' }),
      isClosing: () => false,
      // The store comes back after the second wait, as Redis does after a restart.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) down.value = false;
      },
      runner: async (_exportId, _trigger, o) => {
        // The pipeline's own write of the end fails: Redis went down while the run was finishing.
        down.value = true;
        const report = finished(o.runId, o.attempt ?? 1);
        await store.finishRun(report).catch(() => undefined);
        return report;
      },
    });

    await expect(process(job('sales@manual-1', 1), 'token', undefined)).resolves.toEqual({
      runId: 'sales@manual-1',
      status: 'succeeded',
    });
    expect(sleeps).toEqual([250, 500]);
    expect(await store.getRun('sales@manual-1')).toMatchObject({ status: 'succeeded', bytes: 984_679, attempt: 1 });
  });

  it('leaves a record that already shows the end, or a later attempt, as it is', async () => {
    const { store, finishCalls } = flakyStore();
    const process = createRunProcessor({
      store,
      logger: pino({ level: 'silent' }),
      isClosing: () => false,
      sleep: async () => undefined,
      runner: async (_exportId, _trigger, o) => {
        const report = finished(o.runId, o.attempt ?? 1);
        await store.finishRun(report);
        // Meanwhile another worker took the run as attempt 2 (this one had lost its lock).
        await store.insertRun({
          runId: 'sales@manual-2#2',
          exportId: 'sales',
          trigger: { kind: 'manual', by: 'admin' },
          startedAt: '2026-12-02T05:41:29.000Z',
          attempt: 2,
        });
        return report;
      },
    });

    await process(job('sales@manual-2', 1), 'token', undefined);
    expect(finishCalls()).toBe(1);
    expect(await store.getRun('sales@manual-2')).toMatchObject({ status: 'running', attempt: 2 });
  });
});
