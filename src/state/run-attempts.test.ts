import { describe, expect, it } from 'vitest';
import { blankRunReport, type RunReport } from '../contracts/run-report.js';
import { foldAttemptWrite, interruptAttempt } from './run-attempts.js';

const T0 = '2026-05-05T06:00:00.000Z';
const T1 = '2026-05-05T06:01:00.000Z';
const T2 = '2026-05-05T06:03:00.000Z';

const start = (runId: string, startedAt: string, extra: Partial<RunReport> = {}): RunReport =>
  blankRunReport({
    runId,
    exportId: 'sales',
    trigger: { kind: 'manual', by: 'alice' },
    status: 'running',
    startedAt,
    ...extra,
  });

const end = (runId: string, startedAt: string, extra: Partial<RunReport>): RunReport => ({
  ...start(runId, startedAt),
  status: 'succeeded',
  finishedAt: T2,
  durationMs: Date.parse(T2) - Date.parse(startedAt),
  rows: 5019,
  bytes: 1234,
  ...extra,
});

describe('foldAttemptWrite', () => {
  it('stores runs without attempt numbers as written', () => {
    const r = end('r1', T0, {});
    expect(foldAttemptWrite(undefined, r)).toEqual(r);
    expect(foldAttemptWrite(start('r1', T0), r)).toEqual(r);
  });

  it('folds a retried run into one record: attempt 1 interrupted on worker A, attempt 2 succeeded on worker B', () => {
    let record = foldAttemptWrite(undefined, start('j', T0, { attempt: 1 }));
    record = foldAttemptWrite(record, start('j', T0, { attempt: 1, worker: 'host-a:11' }));
    // The pipeline's own insert names no worker: the one known stays.
    record = foldAttemptWrite(record, start('j', T0, { attempt: 1 }));
    expect(record).toMatchObject({ runId: 'j', attempt: 1, worker: 'host-a:11', status: 'running' });

    record = foldAttemptWrite(record, start('j#2', T1, { attempt: 2, worker: 'host-b:22' }));
    record = foldAttemptWrite(record, end('j#2', T1, { attempt: 2 }));
    expect(record).toMatchObject({ runId: 'j', attempt: 2, worker: 'host-b:22', status: 'succeeded', rows: 5019 });
    expect(record?.attempts).toEqual([
      {
        attempt: 1,
        attemptId: 'j',
        status: 'failed',
        worker: 'host-a:11',
        startedAt: T0,
        finishedAt: T1,
        durationMs: 60_000,
        error: {
          code: 'INTERRUPTED',
          message:
            'run interrupted: its worker (host-a:11) stopped or lost its lock; retried as attempt 2 on host-b:22',
        },
      },
      {
        attempt: 2,
        attemptId: 'j#2',
        status: 'succeeded',
        worker: 'host-b:22',
        startedAt: T1,
        finishedAt: T2,
        durationMs: 120_000,
      },
    ]);
  });

  it('lets a superseded attempt that ends late update only its own entry', () => {
    let record = foldAttemptWrite(undefined, start('j', T0, { attempt: 1, worker: 'a' }));
    record = foldAttemptWrite(record, start('j#2', T1, { attempt: 2, worker: 'b' }));
    // Attempt 1 lost its lock but was still alive: its late start is ignored, its late end is recorded in its entry.
    expect(foldAttemptWrite(record, start('j', T0, { attempt: 1 }))).toBeUndefined();
    const late = foldAttemptWrite(record, {
      ...end('j', T0, { attempt: 1 }),
      status: 'failed',
      error: { code: 'INTERRUPTED', message: 'lock lost' },
    });
    expect(late).toMatchObject({ runId: 'j', attempt: 2, status: 'running', worker: 'b' });
    expect(late?.attempts?.map((a) => [a.attempt, a.status, a.worker, a.error?.message])).toEqual([
      [1, 'failed', 'a', 'lock lost'],
      [2, 'running', 'b', undefined],
    ]);
  });

  it('keeps an attempt that ended before the retry as it ended (a shutdown gave the run back)', () => {
    let record = foldAttemptWrite(undefined, start('j', T0, { attempt: 1, worker: 'a' }));
    record = foldAttemptWrite(record, {
      ...end('j', T0, { attempt: 1 }),
      status: 'failed',
      error: { code: 'ABORTED', message: 'shutdown' },
    });
    record = foldAttemptWrite(record, start('j#2', T1, { attempt: 2, worker: 'b' }));
    expect(record?.attempts?.[0]).toMatchObject({ status: 'failed', error: { code: 'ABORTED' } });
  });
});

describe('interruptAttempt', () => {
  const mark = (r: RunReport): RunReport => ({
    ...r,
    status: 'failed',
    error: { code: 'INTERRUPTED', message: 'gone' },
  });

  it('marks the latest attempt as the run, and an older running attempt only in its entry', () => {
    const one = foldAttemptWrite(undefined, start('j', T0, { attempt: 1, worker: 'a' }));
    if (one === undefined) throw new Error('no record');
    const marked = interruptAttempt(one, 'j', mark, new Date(T1));
    expect(marked).toMatchObject({ status: 'failed', attempts: [{ attempt: 1, status: 'failed' }] });
    expect(interruptAttempt(one, 'j#2', mark, new Date(T1))).toBeUndefined();

    const folded = foldAttemptWrite(one, start('j#2', T1, { attempt: 2 }));
    if (folded === undefined) throw new Error('no record');
    // Attempt 1 is already listed as interrupted by the retry: nothing to mark; attempt 2 is the run.
    expect(interruptAttempt(folded, 'j', mark, new Date(T2))).toBeUndefined();
    expect(interruptAttempt(folded, 'j#2', mark, new Date(T2))).toMatchObject({ status: 'failed', attempt: 2 });
  });

  it('marks a run without attempts whole, and never a finished one', () => {
    const r = start('r1', T0);
    expect(interruptAttempt(r, 'r1', mark, new Date(T1))).toMatchObject({ status: 'failed' });
    expect(interruptAttempt(end('r1', T0, {}), 'r1', mark, new Date(T1))).toBeUndefined();
  });
});

describe('foldAttemptWrite and burst parts', () => {
  it('keeps the parts an interrupted attempt recorded until the retrying attempt writes its own', () => {
    const parts = [{ value: 'EMEA', status: 'succeeded' as const, sheets: [], rows: 3, bytes: 10, warnings: [] }];
    let record = foldAttemptWrite(undefined, start('j', T0, { attempt: 1 }));
    record = foldAttemptWrite(record, start('j', T0, { attempt: 1, parts }));
    record = foldAttemptWrite(record, start('j#2', T1, { attempt: 2, worker: 'host-b:22' }));
    expect(record?.parts).toEqual(parts);
    const mine = [...parts, { value: 'NA', status: 'succeeded' as const, sheets: [], rows: 1, bytes: 5, warnings: [] }];
    record = foldAttemptWrite(record, end('j#2', T1, { attempt: 2, parts: mine }));
    expect(record?.parts).toEqual(mine);
  });
});
