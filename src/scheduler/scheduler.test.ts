import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunReport, RunTrigger } from '../contracts/run-report.js';
import { hostname } from 'node:os';
import { AbortedError } from '../shared/errors.js';
import { ExportAlreadyRunningError } from '../state/export-lock.js';
import { createSilentLogger } from '../shared/logger.js';
import type { RunStore } from '../contracts/run-store.js';
import { createSqliteRunStore } from '../state/sqlite-run-store.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import type { TimerApi } from './timers.js';
import type { Notifier, NotifySettings } from '../contracts/after-run.js';
import type { ExportRunner, RunnerOptions } from '../contracts/export-runner.js';
import type { ScheduledExport } from './types.js';

/** A fake clock with fake timers: `advanceTo` fires due timers in time order, letting promises settle between. */
function createFakeTime(startIso: string) {
  let now = Date.parse(startIso);
  let seq = 0;
  const timers = new Map<number, { id: number; at: number; callback: () => void }>();
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const timerApi: TimerApi = {
    setTimeout(callback, ms) {
      const id = ++seq;
      timers.set(id, { id, at: now + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle);
    },
  };
  return {
    clock: { now: () => new Date(now) },
    timerApi,
    flush,
    /** Longest pending timer delay, to check the wall clock is re-read often. */
    longestPendingMs: () => Math.max(0, ...[...timers.values()].map((t) => t.at - now)),
    async advanceTo(iso: string): Promise<void> {
      const target = Date.parse(iso);
      for (;;) {
        await flush();
        const due = [...timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (due === undefined) break;
        timers.delete(due.id);
        now = Math.max(now, due.at);
        due.callback();
      }
      now = target;
      await flush();
    },
    async advanceBy(ms: number): Promise<void> {
      await this.advanceTo(new Date(now + ms).toISOString());
    },
    /** Moves the clock without firing timers (a suspended VM, an NTP jump). */
    jumpBy(ms: number): void {
      now += ms;
    },
  };
}

interface RunnerCall {
  exportId: string;
  trigger: RunTrigger;
  at: string;
  runId: string;
  signal: AbortSignal;
  logBindings: Record<string, unknown> | undefined;
}

/**
 * A runner like the real one: records the run in the store at start and at the end. `hold(exportId)` makes the next
 * runs of that export wait until released (or aborted, if `honourAbort`).
 */
function createFakeRunner(
  store: RunStore,
  clock: { now(): Date },
  options: { honourAbort?: boolean; result?: (call: RunnerCall) => Partial<RunReport> } = {},
) {
  const calls: RunnerCall[] = [];
  const held = new Map<string, Array<() => void>>();
  const holding = new Set<string>();
  const runner: ExportRunner = async (exportId, trigger, opts: RunnerOptions) => {
    const startedAt = clock.now().toISOString();
    const call: RunnerCall = {
      exportId,
      trigger,
      at: startedAt,
      runId: opts.runId,
      signal: opts.signal,
      logBindings: opts.logger?.bindings(),
    };
    calls.push(call);
    await store.insertRun({ runId: opts.runId, exportId, trigger, startedAt });
    opts.onStart?.(opts.runId);
    let aborted = false;
    if (holding.has(exportId)) {
      await new Promise<void>((resolve) => {
        const list = held.get(exportId) ?? [];
        list.push(resolve);
        held.set(exportId, list);
        if (options.honourAbort !== false) {
          opts.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }
      });
    }
    const finishedAt = clock.now();
    const report: RunReport = {
      runId: opts.runId,
      exportId,
      trigger,
      status: aborted ? 'failed' : 'succeeded',
      startedAt,
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - Date.parse(startedAt),
      sheets: [{ sheet: 'Data', rows: 10, source: 'fake' }],
      rows: 10,
      bytes: 1000,
      destination: { location: 'local:/out/x.xlsx' },
      warnings: [],
      error: aborted
        ? {
            code: 'ABORTED',
            message: opts.signal.reason instanceof AbortedError ? opts.signal.reason.message : 'aborted',
          }
        : undefined,
      timings: {},
      dataHash: undefined,
      ...(options.result?.(call) ?? {}),
    };
    await store.finishRun(report);
    return report;
  };
  return {
    runner,
    calls,
    hold: (exportId: string) => holding.add(exportId),
    release(exportId: string) {
      holding.delete(exportId);
      for (const resolve of held.get(exportId) ?? []) resolve();
      held.delete(exportId);
    },
  };
}

const dbs: Database.Database[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const db of dbs.splice(0)) db.close();
});

/** Stops a scheduler driven by fake time: its deadline and grace timers only fire when fake time moves. */
function stopOnCleanup(scheduler: Scheduler, time: ReturnType<typeof createFakeTime>): void {
  cleanups.push(async () => {
    const stopping = scheduler.stop({ deadlineMs: 0 });
    await time.advanceBy(60_000);
    await stopping;
  });
}

function setup(
  startIso: string,
  exports: ScheduledExport[],
  runnerOptions: Parameters<typeof createFakeRunner>[2] = {},
  extra: { notifier?: Notifier; abortGraceMs?: number } = {},
) {
  const time = createFakeTime(startIso);
  const db = new Database(':memory:');
  dbs.push(db);
  const store = createSqliteRunStore(db, { clock: time.clock });
  const fake = createFakeRunner(store, time.clock, runnerOptions);
  let n = 0;
  const scheduler = createScheduler({
    exports,
    runner: fake.runner,
    store,
    logger: createSilentLogger(),
    clock: time.clock,
    newRunId: () => `run-${++n}`,
    timerApi: time.timerApi,
    notifier: extra.notifier,
    abortGraceMs: extra.abortGraceMs,
  });
  stopOnCleanup(scheduler, time);
  return { time, store, fake, scheduler };
}

function exp(
  id: string,
  schedule: string | undefined,
  timezone: string,
  more: Partial<ScheduledExport> = {},
): ScheduledExport {
  return { id, schedule, timezone, catchUp: false, destinationLabel: `local ./out/${id}.xlsx`, ...more };
}

const firesOf = (calls: RunnerCall[], id: string): string[] => calls.filter((c) => c.exportId === id).map((c) => c.at);

describe('createScheduler: cron in time zones', () => {
  it('fires each export at its pattern in its own zone, with the scheduled time in the trigger', async () => {
    const { time, fake, scheduler } = setup('2026-06-01T00:00:00Z', [
      exp('ny', '0 6 * * *', 'America/New_York'),
      exp('paris', '0 6 * * *', 'Europe/Paris'),
      exp('manual', undefined, 'UTC'),
    ]);
    await scheduler.start();
    expect(scheduler.nextRun('ny')?.toISOString()).toBe('2026-06-01T10:00:00.000Z');
    expect(scheduler.nextRun('paris')?.toISOString()).toBe('2026-06-01T04:00:00.000Z');
    expect(scheduler.nextRun('manual')).toBeUndefined();
    await time.advanceTo('2026-06-03T00:00:00Z');
    expect(firesOf(fake.calls, 'paris')).toEqual(['2026-06-01T04:00:00.000Z', '2026-06-02T04:00:00.000Z']);
    expect(firesOf(fake.calls, 'ny')).toEqual(['2026-06-01T10:00:00.000Z', '2026-06-02T10:00:00.000Z']);
    expect(firesOf(fake.calls, 'manual')).toEqual([]);
    expect(fake.calls[0]?.trigger).toEqual({ kind: 'schedule', scheduledFor: '2026-06-01T04:00:00.000Z' });
    // The runner logs through a child logger carrying the run id.
    expect(fake.calls[0]?.logBindings).toEqual({ runId: fake.calls[0]?.runId, exportId: 'paris' });
    // The wall clock is re-read at least every minute.
    expect(time.longestPendingMs()).toBeLessThanOrEqual(60_000);
  });

  it.each([
    // zone, day, local midnight (UTC) .. next local midnight (UTC), the daily 02:30 run, hourly runs that day
    [
      'America/New_York',
      'spring-forward',
      '2026-03-08T05:00:00Z',
      '2026-03-09T04:00:00Z',
      ['2026-03-08T07:00:00.000Z'],
      23,
    ],
    ['America/New_York', 'fall-back', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', ['2026-11-01T07:30:00.000Z'], 25], // 02:30 EST
    [
      'Europe/Paris',
      'spring-forward',
      '2026-03-28T23:00:00Z',
      '2026-03-29T22:00:00Z',
      ['2026-03-29T01:00:00.000Z'],
      23,
    ],
    ['Europe/Paris', 'fall-back', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', ['2026-10-25T00:30:00.000Z'], 25],
  ])(
    '%s %s day: a daily 02:30 runs once and an hourly one every real hour',
    async (tz, _kind, from, to, daily, hourly) => {
      const { time, fake, scheduler } = setup(new Date(Date.parse(from) - 1000).toISOString(), [
        exp('daily', '30 2 * * *', tz),
        exp('hourly', '0 * * * *', tz),
      ]);
      await scheduler.start();
      await time.advanceTo(new Date(Date.parse(to) - 1000).toISOString());
      expect(firesOf(fake.calls, 'daily')).toEqual(daily);
      const hours = firesOf(fake.calls, 'hourly');
      expect(hours).toHaveLength(hourly);
      expect(new Set(hours).size).toBe(hourly);
    },
  );

  it('runs a daily 01:30 once on the New York fall-back day, not twice', async () => {
    const { time, fake, scheduler } = setup('2026-10-31T12:00:00Z', [exp('late', '30 1 * * *', 'America/New_York')]);
    await scheduler.start();
    await time.advanceTo('2026-11-02T12:00:00Z');
    expect(firesOf(fake.calls, 'late')).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('fires a late tick once after a clock jump and resumes with the next future tick', async () => {
    const { time, fake, scheduler } = setup('2026-06-01T03:59:00Z', [exp('p', '0 * * * *', 'UTC')]);
    await scheduler.start();
    time.jumpBy(3 * 3_600_000); // 06:59 without any timer firing
    await time.advanceBy(60_000); // the pending wake-up sees the 04:00 tick overdue, then 07:00 comes
    expect(firesOf(fake.calls, 'p')).toEqual(['2026-06-01T06:59:00.000Z', '2026-06-01T07:00:00.000Z']);
    // The overdue tick fires once (05:00 and 06:00 are not replayed), then the schedule goes on.
    expect(fake.calls.map((c) => c.trigger)).toEqual([
      { kind: 'schedule', scheduledFor: '2026-06-01T04:00:00.000Z' },
      { kind: 'schedule', scheduledFor: '2026-06-01T07:00:00.000Z' },
    ]);
    expect(scheduler.nextRun('p')?.toISOString()).toBe('2026-06-01T08:00:00.000Z');
  });
});

describe('createScheduler: no overlap', () => {
  it('records a tick that finds the export running as a skipped run', async () => {
    const { time, fake, scheduler, store } = setup('2026-06-01T00:59:00Z', [exp('slow', '0 * * * *', 'UTC')]);
    fake.hold('slow');
    await scheduler.start();
    await time.advanceTo('2026-06-01T02:30:00Z');
    // 01:00 started the run; 02:00 found it running.
    expect(firesOf(fake.calls, 'slow')).toEqual(['2026-06-01T01:00:00.000Z']);
    expect(scheduler.isRunning('slow')).toBe(true);
    const runs = await store.listRuns({ exportId: 'slow' });
    expect(runs.map((r) => [r.runId, r.status])).toEqual([
      ['run-2', 'skipped'],
      ['run-1', 'running'],
    ]);
    expect(runs[0]?.trigger).toEqual({ kind: 'schedule', scheduledFor: '2026-06-01T02:00:00.000Z' });
    expect(runs[0]?.warnings[0]).toMatch(/run run-1 of this export was still running/);
    fake.release('slow');
    await time.advanceTo('2026-06-01T03:00:00Z');
    expect((await store.getRun('run-1'))?.status).toBe('succeeded');
    expect(firesOf(fake.calls, 'slow')).toEqual(['2026-06-01T01:00:00.000Z', '2026-06-01T03:00:00.000Z']);
  });

  it('records a tick whose export another process is running (its lock held) as skipped, not as failed', async () => {
    const time = createFakeTime('2026-06-01T00:59:00Z');
    const db = new Database(':memory:');
    dbs.push(db);
    const store = createSqliteRunStore(db, { clock: time.clock });
    const scheduler = createScheduler({
      exports: [exp('busy', '0 * * * *', 'UTC')],
      runner: () =>
        Promise.reject(
          new ExportAlreadyRunningError('busy', '/state/locks/busy.lock', {
            exportId: 'busy',
            pid: 4242,
            hostname: hostname(),
            startedAt: '2026-06-01T00:30:00.000Z',
            token: 't',
          }),
        ),
      store,
      logger: createSilentLogger(),
      clock: time.clock,
      newRunId: () => 'run-1',
      timerApi: time.timerApi,
    });
    stopOnCleanup(scheduler, time);
    await scheduler.start();
    await time.advanceTo('2026-06-01T01:30:00Z');
    const runs = await store.listRuns({ exportId: 'busy' });
    expect(runs.map((r) => [r.runId, r.status, r.warnings])).toEqual([
      ['run-1', 'skipped', ["skipped: export 'busy' is already running (pid 4242, since 2026-06-01T00:30:00.000Z)"]],
    ]);
    expect(scheduler.isRunning('busy')).toBe(false);
  });

  it('refuses a manual trigger while the export runs, and records who triggered', async () => {
    const { time, fake, scheduler, store } = setup('2026-06-01T00:00:00Z', [
      exp('a', undefined, 'UTC'),
      exp('b', undefined, 'UTC'),
    ]);
    await scheduler.start();
    fake.hold('a');
    const first = scheduler.triggerNow('a', { kind: 'manual', by: 'alice' });
    expect('runId' in first && first.runId).toBe('run-1');
    if ('started' in first) await first.started;
    expect(await store.getRun('run-1')).toMatchObject({ status: 'running', trigger: { kind: 'manual', by: 'alice' } });
    expect(scheduler.triggerNow('a', { kind: 'manual', by: 'bob' })).toEqual({ conflict: true, runningRunId: 'run-1' });
    // Another export is independent.
    expect(scheduler.triggerNow('b', { kind: 'manual', by: 'bob' })).toMatchObject({ runId: 'run-2' });
    expect(() => scheduler.triggerNow('nope', { kind: 'cli' })).toThrow(/unknown export 'nope'/);
    fake.release('a');
    await time.flush();
    expect(scheduler.isRunning('a')).toBe(false);
    expect(scheduler.triggerNow('a', { kind: 'manual', by: 'bob' })).toMatchObject({ runId: 'run-3' });
  });
});

describe('createScheduler: start', () => {
  const sixAm: ScheduledExport = exp('sales', '0 6 * * *', 'Europe/Paris', { catchUp: true });

  async function seed(
    store: RunStore,
    runId: string,
    startedAt: string,
    status: RunReport['status'] = 'succeeded',
    errorCode?: string,
  ) {
    await store.insertRun({ runId, exportId: 'sales', trigger: { kind: 'schedule' }, startedAt });
    if (status !== 'running') {
      const run = await store.getRun(runId);
      if (run === undefined) throw new Error('seed failed');
      await store.finishRun({
        ...run,
        status,
        finishedAt: startedAt,
        durationMs: 0,
        error: errorCode === undefined ? undefined : { code: errorCode, message: 'x' },
      });
    }
  }

  it('catches up once when a scheduled time passed while the service was down', async () => {
    const { time, fake, scheduler, store } = setup('2026-06-03T09:00:00Z', [sixAm]);
    await seed(store, 'old', '2026-06-01T04:00:05Z'); // ran on the 1st, missed the 2nd and the 3rd
    await scheduler.start();
    await time.flush();
    expect(fake.calls.map((c) => c.trigger)).toEqual([{ kind: 'catch-up', scheduledFor: '2026-06-03T04:00:00.000Z' }]);
    await time.advanceTo('2026-06-04T05:00:00Z');
    expect(firesOf(fake.calls, 'sales')).toEqual(['2026-06-03T09:00:00.000Z', '2026-06-04T04:00:00.000Z']);
  });

  it('does not catch up when the last scheduled time was run, when catchUp is off, or without any history', async () => {
    const ran = setup('2026-06-03T09:00:00Z', [sixAm]);
    await seed(ran.store, 'today', '2026-06-03T04:00:02Z');
    await ran.scheduler.start();
    await ran.time.flush();
    expect(ran.fake.calls).toEqual([]);

    const off = setup('2026-06-03T09:00:00Z', [{ ...sixAm, catchUp: false }]);
    await seed(off.store, 'old', '2026-06-01T04:00:05Z');
    await off.scheduler.start();
    await off.time.flush();
    expect(off.fake.calls).toEqual([]);

    const fresh = setup('2026-06-03T09:00:00Z', [sixAm]);
    await fresh.scheduler.start();
    await fresh.time.flush();
    expect(fresh.fake.calls).toEqual([]);
  });

  it('marks runs left running by a crash as INTERRUPTED, and catches up since that run did not finish', async () => {
    const { time, fake, scheduler, store } = setup('2026-06-03T09:00:00Z', [sixAm]);
    await seed(store, 'yesterday', '2026-06-02T04:00:01Z');
    await seed(store, 'crashed', '2026-06-03T04:00:01Z', 'running');
    await scheduler.start();
    await time.flush();
    expect(await store.getRun('crashed')).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(fake.calls.map((c) => c.trigger.kind)).toEqual(['catch-up']);
  });
});

describe('createScheduler: reload', () => {
  it('stops removed exports, re-arms changed schedules, arms new ones, keeps running runs', async () => {
    const { time, fake, scheduler } = setup('2026-06-01T00:00:00Z', [
      exp('a', '0 * * * *', 'UTC'),
      exp('b', '30 * * * *', 'UTC'),
    ]);
    await scheduler.start();
    await time.advanceTo('2026-06-01T01:45:00Z');
    expect(firesOf(fake.calls, 'a')).toEqual(['2026-06-01T01:00:00.000Z']);
    scheduler.reload([exp('a', '15 * * * *', 'UTC'), exp('c', '0 3 * * *', 'UTC')]);
    expect(scheduler.exports().map((e) => e.id)).toEqual(['a', 'c']);
    expect(scheduler.nextRun('a')?.toISOString()).toBe('2026-06-01T02:15:00.000Z');
    await time.advanceTo('2026-06-01T03:20:00Z');
    expect(firesOf(fake.calls, 'a').slice(1)).toEqual(['2026-06-01T02:15:00.000Z', '2026-06-01T03:15:00.000Z']);
    expect(firesOf(fake.calls, 'b')).toEqual(['2026-06-01T00:30:00.000Z', '2026-06-01T01:30:00.000Z']);
    expect(firesOf(fake.calls, 'c')).toEqual(['2026-06-01T03:00:00.000Z']);
  });
});

describe('createScheduler: stop', () => {
  it('lets a run finish within the deadline, then refuses new runs', async () => {
    const { time, fake, scheduler, store } = setup('2026-06-01T00:00:00Z', [exp('a', '0 * * * *', 'UTC')]);
    await scheduler.start();
    fake.hold('a');
    scheduler.triggerNow('a', { kind: 'cli' });
    let stopped = false;
    const stopping = scheduler.stop({ deadlineMs: 30_000 }).then(() => {
      stopped = true;
    });
    await time.advanceBy(10_000);
    expect(stopped).toBe(false);
    fake.release('a');
    await time.flush();
    await stopping;
    expect((await store.getRun('run-1'))?.status).toBe('succeeded');
    expect(fake.calls[0]?.signal.aborted).toBe(false);
    expect(() => scheduler.triggerNow('a', { kind: 'cli' })).toThrow(/shutting down/);
    // No more ticks after stop.
    await time.advanceTo('2026-06-01T05:00:00Z');
    expect(fake.calls).toHaveLength(1);
  });

  it('aborts runs still going at the deadline; the runner records them as ABORTED, without a notification', async () => {
    const notified: RunReport[] = [];
    const notifier: Notifier = { runFinished: async (report) => void notified.push(report) };
    const notify: NotifySettings = { webhookUrl: 'https://hooks.example/x', rowDropShare: 0.5 };
    const { time, fake, scheduler, store } = setup(
      '2026-06-01T00:00:00Z',
      [exp('a', undefined, 'UTC', { notify })],
      {},
      { notifier },
    );
    await scheduler.start();
    fake.hold('a');
    scheduler.triggerNow('a', { kind: 'cli' });
    const stopping = scheduler.stop({ deadlineMs: 30_000 });
    await time.advanceBy(30_000);
    await stopping;
    expect(fake.calls[0]?.signal.aborted).toBe(true);
    expect(await store.getRun('run-1')).toMatchObject({
      status: 'failed',
      error: { code: 'ABORTED', message: expect.stringMatching(/shutting down/) },
    });
    expect(notified).toEqual([]);
  });

  it('marks runs that ignore the abort as INTERRUPTED after the grace period and still resolves', async () => {
    const { time, fake, scheduler, store } = setup(
      '2026-06-01T00:00:00Z',
      [exp('a', undefined, 'UTC')],
      { honourAbort: false },
      { abortGraceMs: 5_000 },
    );
    await scheduler.start();
    fake.hold('a');
    scheduler.triggerNow('a', { kind: 'cli' });
    const stopping = scheduler.stop({ deadlineMs: 1_000 });
    await time.advanceBy(6_000);
    await stopping;
    expect(await store.getRun('run-1')).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
  });
});

describe('createScheduler: notifications and runner failures', () => {
  it('hands every finished run to the notifier with the export settings, and survives a notifier that throws', async () => {
    const notify: NotifySettings = { webhookUrl: 'https://hooks.example/x', rowDropShare: 0.3 };
    const seen: Array<[string, NotifySettings]> = [];
    const notifier: Notifier = {
      runFinished: async (report, settings) => {
        seen.push([report.status, settings]);
        throw new Error('webhook down');
      },
    };
    const { time, scheduler } = setup(
      '2026-06-01T00:00:00Z',
      [exp('a', undefined, 'UTC', { notify }), exp('quiet', undefined, 'UTC')],
      {
        result: (call) =>
          call.runId === 'run-1' ? { status: 'failed', error: { code: 'TABLEAU_DOWN', message: 'x' } } : {},
      },
      { notifier },
    );
    await scheduler.start();
    scheduler.triggerNow('a', { kind: 'cli' });
    scheduler.triggerNow('quiet', { kind: 'cli' });
    await time.flush();
    scheduler.triggerNow('a', { kind: 'cli' });
    await time.flush();
    expect(seen).toEqual([
      ['failed', notify],
      ['succeeded', notify],
    ]);
  });

  it('records a failed run when the runner throws instead of reporting', async () => {
    const time = createFakeTime('2026-06-01T00:00:00Z');
    const db = new Database(':memory:');
    dbs.push(db);
    const store = createSqliteRunStore(db);
    const scheduler = createScheduler({
      exports: [exp('a', undefined, 'UTC')],
      runner: async () => {
        throw new Error('bug with token=abcdef123456');
      },
      store,
      logger: createSilentLogger(),
      clock: time.clock,
      newRunId: () => 'run-x',
      timerApi: time.timerApi,
      redactor: {
        redact: (t) => t.replace('abcdef123456', '[REDACTED]'),
        redactValue: (v) => v,
        addSecret: () => undefined,
      },
    });
    stopOnCleanup(scheduler, time);
    await scheduler.start();
    const outcome = scheduler.triggerNow('a', { kind: 'cli' });
    if ('started' in outcome) await outcome.started;
    await time.flush();
    expect(await store.getRun('run-x')).toMatchObject({
      status: 'failed',
      error: { code: 'INTERNAL', message: 'bug with token=[REDACTED]' },
    });
    expect(scheduler.isRunning('a')).toBe(false);
  });
});
