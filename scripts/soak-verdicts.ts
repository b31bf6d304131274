/**
 * The soak's verdicts, as pure functions of what it recorded: runs and failures by cause, versions per file against
 * the nights whose data changed, runs whose final state is wrong, and whether memory and file descriptors stayed
 * bounded.
 */
import type { NightPlan } from './soak-plan.js';
import type { RunRecord, TriggeredRun } from './soak-nights.js';
import type { ProcSample } from './soak-measure.js';

export interface Verdict {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Run counts: by final status, failures by error code, failed attempts (retried) by code, runs that needed a retry. */
export function tallyRuns(runs: readonly TriggeredRun[]): {
  byStatus: Record<string, number>;
  failuresByCode: Record<string, number>;
  retriedAttemptsByCode: Record<string, number>;
  runsRetried: number;
} {
  const byStatus: Record<string, number> = {};
  const failuresByCode: Record<string, number> = {};
  const retriedAttemptsByCode: Record<string, number> = {};
  let runsRetried = 0;
  const bump = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };
  for (const r of runs) {
    const rec = r.record;
    bump(byStatus, rec?.status ?? 'not ended');
    if (rec?.status === 'failed') bump(failuresByCode, rec.error?.code ?? 'no code');
    const attempts = rec?.attempts ?? [];
    if (attempts.length > 1) runsRetried++;
    for (const a of attempts.slice(0, -1)) bump(retriedAttemptsByCode, a.error?.code ?? a.status);
  }
  return { byStatus, failuresByCode, retriedAttemptsByCode, runsRetried };
}

/** What is wrong with one run's final record, if anything. */
export function finalStateProblems(run: TriggeredRun, fileExists: (location: string) => boolean): string[] {
  const rec = run.record;
  const id = `night ${run.night} ${run.exportId} run ${run.runId}`;
  if (rec === undefined) return [`${id}: still running (or no record) after the fleet quiesced`];
  const problems: string[] = [];
  if (!['succeeded', 'failed', 'unchanged'].includes(rec.status)) problems.push(`${id}: final status ${rec.status}`);
  if (rec.runId !== run.runId) problems.push(`${id}: GET /api/runs answered run ${rec.runId}`);
  const attempts = rec.attempts ?? [];
  const last = attempts.at(-1);
  if (last !== undefined) {
    if (last.status !== rec.status)
      problems.push(`${id}: status ${rec.status} but its last attempt (${last.attempt}) is ${last.status}`);
    if (last.attempt !== (rec.attempt ?? 1))
      problems.push(`${id}: attempt ${rec.attempt ?? 1} but its last listed attempt is ${last.attempt}`);
    if (attempts.some((a, i) => a.attempt !== i + 1))
      problems.push(`${id}: attempts not numbered 1..n: ${attempts.map((a) => a.attempt).join(',')}`);
    const earlierOk = attempts.slice(0, -1).filter((a) => a.status !== 'failed');
    if (earlierOk.length > 0)
      problems.push(`${id}: retried after attempt(s) ${earlierOk.map((a) => `${a.attempt} ${a.status}`).join(', ')}`);
  }
  if (rec.status === 'succeeded') {
    const location = rec.destination?.location;
    if (location === undefined || !fileExists(location))
      problems.push(`${id}: recorded succeeded but no file at ${location ?? '(no destination)'}`);
    if (rec.bytes <= 0) problems.push(`${id}: recorded succeeded with ${rec.bytes} bytes`);
  }
  if (rec.status === 'unchanged' && rec.destination?.location === undefined)
    problems.push(`${id}: recorded unchanged without the file it kept`);
  return problems;
}

export interface VersionCheck {
  readonly exportId: string;
  /** Versions the Graph simulator holds for the file. */
  readonly versions: number;
  /** Versions the nights' data changes imply: one per successful run whose data differs from the last delivery. */
  readonly expected: number;
  readonly deliveries: number;
  readonly unchanged: number;
  /**
   * Extra versions explained by a worker killed between committing its upload and recording it: the retry (attempt
   * 2) does not know attempt 1 delivered and uploads the same data again. At most one per such retried run.
   */
  readonly duplicatesAfterKill: number;
  readonly problems: string[];
}

/**
 * Walks one export's nights in order. A night whose run ended well and whose data generation differs from the one
 * last delivered must have delivered (`succeeded`, one new version); one with the same data must be `unchanged` (no
 * version). Failed nights deliver nothing. The file's version count must equal the deliveries (plus at most one
 * duplicate per run whose first attempt was killed and whose retry delivered: at-least-once delivery), and its size
 * the size the last delivery recorded.
 */
export function checkVersions(
  exportId: string,
  runs: readonly TriggeredRun[],
  plan: readonly NightPlan[],
  file: { versions: number; size: number } | undefined,
): VersionCheck {
  const problems: string[] = [];
  let lastGeneration: number | undefined;
  let expected = 0;
  let deliveries = 0;
  let unchanged = 0;
  let lastDelivered: RunRecord | undefined;
  let redeliverable = 0;
  for (const run of [...runs].sort((a, b) => a.night - b.night)) {
    const rec = run.record;
    const interrupted = (rec?.attempts ?? []).slice(0, -1).some((a) => a.error?.code === 'INTERRUPTED');
    if (rec?.status === 'succeeded' && interrupted) redeliverable++;
    const generation = plan[run.night - 1]?.generation;
    if (rec === undefined || rec.status === 'failed') continue;
    const changed = generation !== lastGeneration;
    if (rec.status === 'succeeded') {
      deliveries++;
      lastDelivered = rec;
    }
    if (rec.status === 'unchanged') unchanged++;
    if (changed) expected++;
    if (changed && rec.status !== 'succeeded')
      problems.push(`night ${run.night}: data changed (generation ${generation}) but the run is ${rec.status}`);
    if (!changed && rec.status !== 'unchanged')
      problems.push(`night ${run.night}: data unchanged (generation ${generation}) but the run is ${rec.status}`);
    lastGeneration = generation;
  }
  const versions = file?.versions ?? 0;
  const extra = versions - expected;
  const duplicatesAfterKill = extra > 0 && extra <= redeliverable ? extra : 0;
  if (versions !== expected && duplicatesAfterKill === 0)
    problems.push(
      `the file has ${versions} version(s), the nights' data changes imply ${expected} (${redeliverable} retried run(s) after a kill could add one each)`,
    );
  if (lastDelivered !== undefined && file !== undefined && file.size !== lastDelivered.bytes)
    problems.push(
      `the file is ${file.size} bytes, its last delivery (${lastDelivered.runId}) recorded ${lastDelivered.bytes}`,
    );
  return { exportId, versions, expected, deliveries, unchanged, duplicatesAfterKill, problems };
}

const MIB = 1024 * 1024;

/**
 * The growth rule: after warm-up, RSS at the end ≤ RSS at the start × 1.5 + 30 MiB, and open file descriptors at the
 * end ≤ start × 1.25 + 10 (sockets of keep-alive pools and Redis connections come and go).
 */
export function checkGrowth(name: string, start: ProcSample | undefined, end: ProcSample | undefined): Verdict {
  if (start === undefined || end === undefined)
    return { name: `bounded RSS and fds: ${name}`, ok: false, detail: 'no start or end sample' };
  const rssLimit = start.rssBytes * 1.5 + 30 * MIB;
  const fdLimit = Math.floor(start.openFds * 1.25 + 10);
  const ok = end.rssBytes <= rssLimit && end.openFds <= fdLimit;
  return {
    name: `bounded RSS and fds: ${name}`,
    ok,
    detail: `RSS ${(start.rssBytes / MIB).toFixed(1)} → ${(end.rssBytes / MIB).toFixed(1)} MiB (limit ${(rssLimit / MIB).toFixed(1)}), fds ${start.openFds} → ${end.openFds} (limit ${fdLimit})`,
  };
}

/** Every verdict of a soak, in the order the report prints them. */
export function soakVerdicts(o: {
  warm: Record<'serve' | 'worker1', ProcSample | undefined>;
  end: Record<'serve' | 'worker1', ProcSample | undefined>;
  finalProblems: readonly string[];
  runCount: number;
  versions: readonly VersionCheck[];
  leftovers: { stateDirTmp: readonly string[]; osTmp: readonly string[] };
  nights: number;
  plannedNights: number;
  warmupNights: number;
}): Verdict[] {
  const { finalProblems, versions, leftovers } = o;
  return [
    checkGrowth('serve', o.warm.serve, o.end.serve),
    checkGrowth('worker 1 (never killed)', o.warm.worker1, o.end.worker1),
    {
      name: 'final states',
      ok: finalProblems.length === 0,
      detail:
        finalProblems.length === 0
          ? `all ${o.runCount} runs ended consistently`
          : finalProblems.slice(0, 20).join('\n'),
    },
    {
      name: 'versions per file',
      ok: versions.every((v) => v.problems.length === 0),
      detail:
        versions
          .flatMap((v) => v.problems.map((p) => `${v.exportId}: ${p}`))
          .slice(0, 20)
          .join('\n') ||
        'one version per changed night (plus the duplicates after a kill counted above), none on unchanged nights',
    },
    {
      name: 'no temp files left',
      ok: leftovers.stateDirTmp.length === 0 && leftovers.osTmp.length === 0,
      detail: `stateDir/tmp: ${leftovers.stateDirTmp.join(', ') || 'empty'}; os tmp: ${leftovers.osTmp.join(', ') || 'empty'}`,
    },
    {
      name: 'soak ran at least the warm-up plus one night',
      ok: o.nights > o.warmupNights,
      detail: `${o.nights} night(s) of ${o.plannedNights}`,
    },
  ];
}
