/**
 * One simulated night of the soak: the Tableau data of the night, its faults queued on the simulators, a "Sync now"
 * of every export through the admin API (as an operator or a cron tick would start them), the night's kill -9 or
 * Redis restart while the runs are under way, and the wait until every run of the night is recorded as ended.
 */
import { z } from 'zod';
import type { SimEnv } from '../test/integration/helpers/sim-env.js';
import type { createApiClient } from '../test/integration/helpers/service-process.js';
import type { NightPlan } from './soak-plan.js';
import type { SoakFleet, SoakRedis } from './soak-fleet.js';

type Api = ReturnType<typeof createApiClient>;

export const runRecordSchema = z.object({
  runId: z.string(),
  exportId: z.string(),
  status: z.string(),
  attempt: z.number().optional(),
  bytes: z.number(),
  startedAt: z.string(),
  finishedAt: z.string().nullish(),
  error: z.object({ code: z.string(), message: z.string() }).nullish(),
  destination: z.object({ location: z.string(), itemId: z.string().nullish() }).nullish(),
  attempts: z
    .array(
      z.object({
        attempt: z.number(),
        status: z.string(),
        worker: z.string().nullish(),
        error: z.object({ code: z.string(), message: z.string() }).nullish(),
      }),
    )
    .nullish(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export interface TriggeredRun {
  readonly night: number;
  readonly exportId: string;
  readonly runId: string;
  /** The record once it ended; undefined when it had not ended by the night's deadline. */
  record: RunRecord | undefined;
  /** The first record read with a status other than running (the final one may differ: see `flips` in the report). */
  firstEnded?: RunRecord | undefined;
}

export interface ChaosEvent {
  readonly night: number;
  readonly kind: 'worker-kill' | 'redis-restart';
  readonly at: string;
  readonly detail: string;
}

export interface NightResult {
  readonly night: number;
  readonly runs: TriggeredRun[];
  readonly seconds: number;
  readonly faults: readonly string[];
  /** Faults still queued on the simulators when the night ended (no request of the night hit them); cleared. */
  readonly faultsUnused: number;
  readonly events: ChaosEvent[];
  /** Admin API answers other than 202/409 while triggering (e.g. Redis down), retried. */
  readonly triggerRetries: number;
  /** Exports that could not be started tonight, and why. */
  readonly triggerFailures: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * POST /api/exports/:id/run until it answers 202: a 409 means the export's previous run has not quite released it,
 * and a 5xx or a refused connection happens while Redis restarts. Gives up after `timeoutMs` (a run of an earlier
 * night that never ended keeps its export busy): the failure is reported, not thrown.
 */
async function trigger(
  api: Api,
  exportId: string,
  timeoutMs: number,
): Promise<{ runId: string; retries: number } | { failure: string; retries: number }> {
  const deadline = Date.now() + timeoutMs;
  let retries = 0;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await api.post(`/api/exports/${encodeURIComponent(exportId)}/run`);
      const body = z.object({ runId: z.string() }).safeParse(res.body);
      if (res.status === 202 && body.success) return { runId: body.data.runId, retries };
      last = `${res.status} ${JSON.stringify(res.body)}`;
      if (res.status !== 409) retries++;
    } catch (err) {
      retries++;
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  return {
    failure: `POST /api/exports/${exportId}/run did not answer 202 within ${timeoutMs} ms; last: ${last}`,
    retries,
  };
}

/** GET /api/runs/:id; undefined while it is missing, running, or the API cannot answer (Redis restarting). */
export async function endedRecord(api: Api, runId: string): Promise<RunRecord | undefined> {
  try {
    const res = await api.get(`/api/runs/${encodeURIComponent(runId)}`);
    if (res.status !== 200) return undefined;
    const record = runRecordSchema.parse(res.body);
    return record.status === 'running' ? undefined : record;
  } catch {
    return undefined;
  }
}

/** Polls every unfinished run until all ended or `deadline` (epoch ms) passed. */
export async function waitForRuns(api: Api, runs: readonly TriggeredRun[], deadline: number): Promise<void> {
  for (;;) {
    const open = runs.filter((r) => r.record === undefined);
    if (open.length === 0 || Date.now() > deadline) return;
    for (const r of open) {
      r.record = await endedRecord(api, r.runId);
      r.firstEnded ??= r.record;
    }
    await sleep(500);
  }
}

export interface NightDeps {
  readonly sim: SimEnv;
  readonly api: Api;
  readonly fleet: SoakFleet;
  readonly redis: SoakRedis;
  readonly exportIds: readonly string[];
  readonly baseDataSeed: number;
  /** How long the night may take before its unfinished runs are left to the final quiesce. */
  readonly nightTimeoutMs: number;
  readonly log: (text: string) => void;
}

/** The night's kill -9 and Redis restart, each after its planned delay. */
async function chaos(plan: NightPlan, deps: NightDeps, events: ChaosEvent[]): Promise<void> {
  const steps: Promise<void>[] = [];
  if (plan.killWorkerAfterMs !== undefined) {
    const after = plan.killWorkerAfterMs;
    steps.push(
      sleep(after).then(async () => {
        const { killedPid, newPid } = await deps.fleet.killAndRespawn(1);
        const detail = `worker pid ${killedPid} killed with SIGKILL ${after} ms into the night; respawned as pid ${newPid}`;
        events.push({ night: plan.night, kind: 'worker-kill', at: new Date().toISOString(), detail });
        deps.log(`  night ${plan.night}: ${detail}`);
      }),
    );
  }
  if (plan.restartRedisAfterMs !== undefined) {
    const after = plan.restartRedisAfterMs;
    steps.push(
      sleep(after).then(async () => {
        const started = Date.now();
        await deps.redis.restart(2_000);
        const detail = `Redis restarted ${after} ms into the night (down ${Date.now() - started} ms)`;
        events.push({ night: plan.night, kind: 'redis-restart', at: new Date().toISOString(), detail });
        deps.log(`  night ${plan.night}: ${detail}`);
      }),
    );
  }
  await Promise.all(steps);
}

/** Runs one night of the plan. */
export async function runNight(plan: NightPlan, deps: NightDeps): Promise<NightResult> {
  const started = Date.now();
  const { sim } = deps;
  sim.tableau.setPipeline({ seed: deps.baseDataSeed + plan.generation });
  for (const f of plan.faults) f.apply(sim);
  const events: ChaosEvent[] = [];
  const chaosDone = chaos(plan, deps, events);
  let triggerRetries = 0;
  const triggerFailures: string[] = [];
  const runs: TriggeredRun[] = [];
  for (const exportId of deps.exportIds) {
    const t = await trigger(deps.api, exportId, 120_000);
    triggerRetries += t.retries;
    if ('failure' in t) triggerFailures.push(t.failure);
    else runs.push({ night: plan.night, exportId, runId: t.runId, record: undefined });
  }
  await chaosDone;
  await waitForRuns(deps.api, runs, started + deps.nightTimeoutMs);
  const faultsUnused = sim.tableau.faults.pending + sim.graph.faults.pending().length;
  sim.tableau.faults.clear();
  sim.graph.faults.clear();
  return {
    night: plan.night,
    runs,
    seconds: (Date.now() - started) / 1000,
    faults: plan.faults.map((f) => f.label),
    faultsUnused,
    events,
    triggerRetries,
    triggerFailures,
  };
}
