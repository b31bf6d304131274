/**
 * The tick loop of the in-process scheduler: the current exports, one timer per scheduled export, and the instant
 * each one fires next. It decides *when* an export ticks; what a tick does is the caller's `onTick`.
 *
 * Timing design: no cron library ticks for us. Each export's next fire instant comes from the
 * pure {@link nextRun} (DST rules documented there), and a single timer per export waits for it through the
 * injectable {@link TimerApi}. Timers never wait longer than `maxTimerMs` (60 s by default): on waking, the wall clock
 * is read again, so a clock jump, a suspended VM or a timer firing early only shifts the tick, never loses or repeats
 * it. Tests drive the same code with a fake clock and fake timers.
 */
import type { RunTrigger } from '../contracts/run-report.js';
import type { Clock } from '../shared/clock.js';
import { nextRun } from '../shared/cron-schedule.js';
import type { Logger } from '../shared/logger.js';
import type { TimerApi } from './timers.js';
import type { ScheduledExport } from './types.js';

export interface TickLoopDeps {
  readonly exports: readonly ScheduledExport[];
  readonly clock: Clock;
  readonly timers: TimerApi;
  /** Longest single timer wait (ms); the wall clock is re-read at least this often. */
  readonly maxTimerMs: number;
  readonly log: Logger;
  /** True while ticks may fire (between the scheduler's `start` and `stop`). */
  readonly isActive: () => boolean;
  /** Called once per due instant of an export's schedule. */
  readonly onTick: (exp: ScheduledExport, trigger: RunTrigger) => void;
}

export interface TickLoop {
  /** The current exports (after the last reload). */
  exports(): readonly ScheduledExport[];
  /** The export as the armed schedules have it (the latest config), or undefined. */
  exportOf(exportId: string): ScheduledExport | undefined;
  /** Arms a timer for every current export (at the scheduler's start). */
  armAll(): void;
  /** Replaces the exports; unchanged schedules keep their timers, new ones are armed if the loop is active. */
  reload(exports: readonly ScheduledExport[]): void;
  /** Clears every timer (at the scheduler's stop). */
  disarmAll(): void;
  /** Next fire instant of an export, or undefined (unknown export, no schedule, or never again). */
  nextRun(exportId: string): Date | undefined;
}

interface Entry {
  exp: ScheduledExport;
  timer: unknown;
  nextAt: number | undefined;
}

/** Creates the tick loop; no timer is armed until `armAll()` (or a `reload` while active). */
export function createTickLoop(deps: TickLoopDeps): TickLoop {
  const { clock, timers, maxTimerMs, log } = deps;
  let current: readonly ScheduledExport[] = deps.exports;
  const entries = new Map<string, Entry>();

  const computeNext = (exp: ScheduledExport, from: Date): number | undefined => {
    if (exp.schedule === undefined) return undefined;
    try {
      return nextRun(from, exp.schedule, exp.timezone)?.getTime();
    } catch (err) {
      // Config validation rejects bad patterns before they get here; if one slips through, the export stays manual.
      log.error(
        { err, exportId: exp.id },
        `export '${exp.id}' is not scheduled: ${err instanceof Error ? err.message : String(err)}`,
      );
      return undefined;
    }
  };

  const wait = (entry: Entry): void => {
    if (entry.nextAt === undefined) return;
    const delay = Math.min(maxTimerMs, Math.max(0, entry.nextAt - clock.now().getTime()));
    entry.timer = timers.setTimeout(() => onWake(entry), delay);
  };

  const arm = (entry: Entry): void => {
    disarm(entry);
    entry.nextAt = computeNext(entry.exp, clock.now());
    wait(entry);
  };

  const disarm = (entry: Entry): void => {
    if (entry.timer !== undefined) timers.clearTimeout(entry.timer);
    entry.timer = undefined;
  };

  const onWake = (entry: Entry): void => {
    entry.timer = undefined;
    if (!deps.isActive() || entries.get(entry.exp.id) !== entry || entry.nextAt === undefined) return;
    const now = clock.now();
    if (now.getTime() < entry.nextAt) {
      wait(entry);
      return;
    }
    const scheduledFor = new Date(entry.nextAt);
    const lateMs = now.getTime() - entry.nextAt;
    if (lateMs > 2 * maxTimerMs) {
      log.warn(
        { exportId: entry.exp.id, scheduledFor, lateMs },
        `tick of export '${entry.exp.id}' fired ${Math.round(lateMs / 1000)} s late (clock jump or suspended machine); later ticks missed meanwhile are not replayed`,
      );
    }
    deps.onTick(entry.exp, { kind: 'schedule', scheduledFor: scheduledFor.toISOString() });
    // From "now", not from the fired instant: after a long suspend we resume with the next future tick.
    entry.nextAt = computeNext(entry.exp, now);
    wait(entry);
  };

  return {
    exports: () => current,
    exportOf: (exportId) => entries.get(exportId)?.exp,

    armAll() {
      for (const exp of current) entries.set(exp.id, { exp, timer: undefined, nextAt: undefined });
      for (const entry of entries.values()) arm(entry);
    },

    reload(exports) {
      const previous = entries;
      const next = new Map<string, Entry>();
      for (const exp of exports) {
        const old = previous.get(exp.id);
        if (old !== undefined && old.exp.schedule === exp.schedule && old.exp.timezone === exp.timezone) {
          old.exp = exp;
          next.set(exp.id, old);
        } else {
          if (old !== undefined) disarm(old);
          const entry: Entry = { exp, timer: undefined, nextAt: undefined };
          next.set(exp.id, entry);
          if (deps.isActive()) arm(entry);
        }
      }
      for (const [id, old] of previous) if (!next.has(id)) disarm(old);
      entries.clear();
      for (const [id, e] of next) entries.set(id, e);
      current = exports;
    },

    disarmAll() {
      for (const entry of entries.values()) disarm(entry);
    },

    nextRun(exportId) {
      const entry = entries.get(exportId);
      if (entry !== undefined && deps.isActive())
        return entry.nextAt === undefined ? undefined : new Date(entry.nextAt);
      const exp = current.find((e) => e.id === exportId);
      if (exp === undefined) return undefined;
      const at = computeNext(exp, clock.now());
      return at === undefined ? undefined : new Date(at);
    },
  };
}
