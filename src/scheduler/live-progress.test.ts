import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LiveRun, ProgressEvent } from '../contracts/run-progress.js';
import { createProgressReporter } from './live-progress.js';

afterEach(() => vi.useRealTimers());

function setup() {
  vi.useFakeTimers({ now: Date.parse('2026-05-05T06:00:00.000Z') });
  const events: ProgressEvent[] = [];
  const reporter = createProgressReporter(
    { runId: 'j', exportId: 'sales', attempt: 2, worker: 'host-b:52' },
    { sink: { publish: (e) => events.push(e) }, clock: { now: () => new Date() } },
  );
  const runs = (): LiveRun[] => events.flatMap((e) => (e.kind === 'progress' ? [e.run] : []));
  return { events, reporter, runs };
}

describe('createProgressReporter', () => {
  it('publishes stage changes at once, holds fast updates back and sends the last one when the interval is over', () => {
    const { reporter, runs } = setup();
    reporter.report({ stage: 'upload', sheet: '', rows: 0, bytesSent: 0, bytesTotal: 1000, stageTimeoutMs: 60_000 });
    vi.advanceTimersByTime(10);
    reporter.report({ stage: 'upload', sheet: '', rows: 0, bytesSent: 320, bytesTotal: 1000 });
    reporter.report({ stage: 'upload', sheet: '', rows: 0, bytesSent: 640, bytesTotal: 1000 });
    expect(runs().map((r) => r.bytesSent)).toEqual([0]);
    // The upload then stalls: the held update still goes out, so the view shows the bytes really sent.
    vi.advanceTimersByTime(300);
    expect(runs().map((r) => r.bytesSent)).toEqual([0, 640]);
    expect(runs()[0]).toMatchObject({
      runId: 'j',
      exportId: 'sales',
      attempt: 2,
      worker: 'host-b:52',
      stage: 'upload',
      startedAt: '2026-05-05T06:00:00.000Z',
      stageStartedAt: '2026-05-05T06:00:00.000Z',
      stageTimeoutMs: 60_000,
    });
  });

  it('counts the rows of finished sheets, maps parse to type, and ends once', () => {
    const { reporter, runs, events } = setup();
    reporter.report({ stage: 'write', sheet: 'A', rows: 10_000, rowsTotal: 12_000, sheetIndex: 1, sheetCount: 2 });
    reporter.report({ stage: 'write', sheet: 'A', rows: 12_000, rowsTotal: 12_000, sheetIndex: 1, sheetCount: 2 });
    vi.advanceTimersByTime(1000);
    reporter.report({ stage: 'parse', sheet: 'B', rows: 0, sheetIndex: 2, sheetCount: 2 });
    expect(runs().at(-1)).toMatchObject({
      stage: 'type',
      sheet: 'B',
      rowsDone: 12_000,
      sheetIndex: 2,
      stageStartedAt: '2026-05-05T06:00:01.000Z',
    });
    reporter.ended('succeeded');
    reporter.ended('succeeded');
    reporter.report({ stage: 'upload', sheet: '', rows: 0 });
    expect(events.at(-1)).toEqual({
      kind: 'ended',
      ended: { runId: 'j', exportId: 'sales', status: 'succeeded', at: '2026-05-05T06:00:01.000Z' },
    });
    expect(events.filter((e) => e.kind === 'ended')).toHaveLength(1);
  });

  it('never lets a failing sink fail the run', () => {
    const reporter = createProgressReporter(
      { runId: 'r', exportId: 'e' },
      {
        sink: {
          publish: () => {
            throw new Error('down');
          },
        },
        clock: { now: () => new Date() },
      },
    );
    expect(() => reporter.report({ stage: 'fetch', sheet: 'A', rows: 0 })).not.toThrow();
    expect(() => reporter.ended('failed')).not.toThrow();
  });
});
