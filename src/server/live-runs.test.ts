import { describe, expect, it } from 'vitest';
import type { LiveRun } from '../contracts/run-progress.js';
import { createLiveRuns, type LiveEvent } from './live-runs.js';

const run = (patch: Partial<LiveRun>): LiveRun => ({
  runId: 'r1',
  exportId: 'sales',
  stage: 'fetch',
  sheet: 'Opportunities',
  rows: 0,
  rowsDone: 0,
  startedAt: '2026-05-05T06:00:00.000Z',
  stageStartedAt: '2026-05-05T06:00:00.000Z',
  updatedAt: '2026-05-05T06:00:00.000Z',
  stageTimeoutMs: 60_000,
  ...patch,
});

describe('createLiveRuns', () => {
  it('shows a run quiet for longer than its stage timeout as stalled, with elapsed and quiet time', () => {
    let now = Date.parse('2026-05-05T06:00:30.000Z');
    const live = createLiveRuns({ clock: { now: () => new Date(now) } });
    live.publish({ kind: 'progress', run: run({}) });
    expect(live.get('r1')).toMatchObject({ elapsedMs: 30_000, quietMs: 30_000, stalled: false });
    now += 31_000;
    expect(live.ofExport('sales')).toMatchObject({ quietMs: 61_000, stalled: true });
    // A run that reports again is no longer stalled.
    live.publish({ kind: 'progress', run: run({ stage: 'type', updatedAt: new Date(now).toISOString() }) });
    expect(live.get('r1')).toMatchObject({ stage: 'type', stalled: false, quietMs: 0 });
  });

  it('keeps the newest attempt, drops updates out of order, forgets a run when it ends and tells listeners', () => {
    const live = createLiveRuns({ clock: { now: () => new Date('2026-05-05T06:01:00.000Z') } });
    const heard: LiveEvent[] = [];
    const stop = live.subscribe((e) => heard.push(e));
    live.publish({ kind: 'progress', run: run({ attempt: 2, worker: 'b', updatedAt: '2026-05-05T06:00:50.000Z' }) });
    // The dead attempt's last words, relayed late, do not replace its retry.
    live.publish({ kind: 'progress', run: run({ attempt: 1, worker: 'a', updatedAt: '2026-05-05T06:00:55.000Z' }) });
    live.publish({
      kind: 'progress',
      run: run({ attempt: 2, stage: 'resolve', updatedAt: '2026-05-05T06:00:40.000Z' }),
    });
    expect(live.list()).toMatchObject([{ attempt: 2, worker: 'b', stage: 'fetch' }]);
    live.publish({
      kind: 'ended',
      ended: { runId: 'r1', exportId: 'sales', status: 'succeeded', at: '2026-05-05T06:01:00.000Z' },
    });
    expect(live.list()).toEqual([]);
    expect(heard.map((e) => e.kind)).toEqual(['progress', 'ended']);
    stop();
    live.publish({ kind: 'progress', run: run({ runId: 'r2' }) });
    expect(heard).toHaveLength(2);
  });
});
