/**
 * How the writes of a run's attempts become one record (pure; both run stores apply it inside their own atomic
 * read-modify-write). The record shows the latest attempt and lists every attempt in `attempts`:
 * - a write of a higher attempt than the recorded one starts a new attempt; the recorded attempt, if it was still
 *   `running`, died with its worker and is listed as failed/INTERRUPTED, saying where it was retried;
 * - a write of the recorded attempt replaces the report (the worker name already known is kept);
 * - a write of an older attempt (a worker that lost its lock and finished late) only updates that attempt's entry:
 *   the record keeps telling the outcome of the latest attempt.
 * Runs that never had an attempt number (the in-process scheduler, the CLI) are stored as written.
 */
import { attemptRunId, parseAttemptRunId } from '../contracts/run-id.js';
import type { AttemptSummary, RunReport } from '../contracts/run-report.js';

/** The record after `incoming` is written over `existing`, or undefined when nothing is to be written. */
export function foldAttemptWrite(existing: RunReport | undefined, incoming: RunReport): RunReport | undefined {
  const id = parseAttemptRunId(incoming.runId);
  const attempt = incoming.attempt ?? id.attempt;
  if (attempt === undefined && existing?.attempt === undefined) return { ...incoming, runId: id.runId };
  const n = attempt ?? 1;
  // A burst's parts stay on the record until a write brings its own: a retry keeps the parts delivered before.
  const parts = incoming.parts ?? existing?.parts;
  const report: RunReport = { ...incoming, runId: id.runId, attempt: n, ...(parts === undefined ? {} : { parts }) };
  if (existing === undefined) return { ...report, attempts: [summarize(report)] };
  const current = existing.attempt ?? 1;
  const entries = attemptsOf(existing);
  if (n > current) {
    const died = entries.map((e) =>
      e.attempt === current && e.status === 'running' ? supersede(e, n, incoming.worker, incoming.startedAt) : e,
    );
    return { ...report, attempts: [...died, summarize(report)] };
  }
  if (n === current) {
    const worker = incoming.worker ?? existing.worker;
    const updated: RunReport = { ...report, worker };
    return { ...updated, attempts: replaceEntry(entries, summarize(updated)) };
  }
  // A superseded attempt: a late start means nothing; a late end is recorded in its own entry only.
  if (incoming.status === 'running') return undefined;
  const previous = entries.find((e) => e.attempt === n);
  const late = summarize({ ...report, worker: incoming.worker ?? previous?.worker });
  return { ...existing, attempts: replaceEntry(entries, late) };
}

/**
 * Marks attempt `attemptId` of `existing` interrupted when it is still running: the whole record (through
 * `interrupt`, which sets status, error and times the way the store does) when it is the latest attempt, else only
 * its entry. Undefined when there is nothing to mark.
 */
export function interruptAttempt(
  existing: RunReport,
  attemptId: string,
  interrupt: (running: RunReport) => RunReport,
  at: Date,
): RunReport | undefined {
  const target = targetAttempt(existing, attemptId);
  const current = existing.attempt;
  if (current === undefined || target === current) {
    if (existing.status !== 'running') return undefined;
    const marked = interrupt(existing);
    return current === undefined
      ? marked
      : { ...marked, attempts: replaceEntry(attemptsOf(existing), summarize(marked)) };
  }
  if (target === undefined || target > current) return undefined;
  const entry = attemptsOf(existing).find((e) => e.attempt === target);
  if (entry?.status !== 'running') return undefined;
  const marked: AttemptSummary = {
    ...entry,
    status: 'failed',
    finishedAt: at.toISOString(),
    error: interrupt(existing).error,
  };
  return { ...existing, attempts: replaceEntry(attemptsOf(existing), marked) };
}

/** The attempt an id names within a record: its suffix, or attempt 1 for the bare run id of a run with attempts. */
function targetAttempt(record: RunReport, attemptId: string): number | undefined {
  const id = parseAttemptRunId(attemptId);
  if (id.attempt !== undefined) return id.attempt;
  return record.attempt === undefined ? undefined : 1;
}

/** The record's attempts, or one entry made from the report when it has none listed yet. */
function attemptsOf(record: RunReport): AttemptSummary[] {
  if (record.attempts !== undefined && record.attempts.length > 0) return [...record.attempts];
  return [summarize({ ...record, attempt: record.attempt ?? 1 })];
}

function summarize(report: RunReport): AttemptSummary {
  const attempt = report.attempt ?? 1;
  return {
    attempt,
    attemptId: attemptRunId(parseAttemptRunId(report.runId).runId, attempt),
    status: report.status,
    ...(report.worker === undefined ? {} : { worker: report.worker }),
    startedAt: report.startedAt,
    ...(report.finishedAt === undefined ? {} : { finishedAt: report.finishedAt }),
    ...(report.durationMs === undefined ? {} : { durationMs: report.durationMs }),
    ...(report.error === undefined ? {} : { error: report.error }),
  };
}

/** A running attempt whose run was taken over by attempt `next`: its worker stopped or lost its lock. */
function supersede(entry: AttemptSummary, next: number, nextWorker: string | undefined, at: string): AttemptSummary {
  const where = entry.worker === undefined ? 'its worker' : `its worker (${entry.worker})`;
  const retried = `retried as attempt ${next}${nextWorker === undefined ? '' : ` on ${nextWorker}`}`;
  const durationMs = Date.parse(at) - Date.parse(entry.startedAt);
  return {
    ...entry,
    status: 'failed',
    finishedAt: at,
    ...(Number.isFinite(durationMs) && durationMs >= 0 ? { durationMs } : {}),
    error: { code: 'INTERRUPTED', message: `run interrupted: ${where} stopped or lost its lock; ${retried}` },
  };
}

function replaceEntry(entries: readonly AttemptSummary[], entry: AttemptSummary): AttemptSummary[] {
  const others = entries.filter((e) => e.attempt !== entry.attempt);
  return [...others, entry].sort((a, b) => a.attempt - b.attempt);
}
