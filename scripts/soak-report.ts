/**
 * The soak's end-of-run readings from the fleet itself: whether it has gone quiet (no export running or queued, the
 * queue empty as `/metrics` reports it), and what the processes' logs say (request retries, error lines).
 */
import { z } from 'zod';
import type { ServiceProcess, createApiClient } from '../test/integration/helpers/service-process.js';

type Api = ReturnType<typeof createApiClient>;

const exportsSchema = z.object({ exports: z.array(z.object({ id: z.string(), running: z.boolean() })) });

/** Run-queue jobs by state from `tableau_export_queue_jobs{state=...}`. */
function queueJobs(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^tableau_export_queue_jobs\{state="(\w+)"\} (\d+)/gm))
    out[m[1] ?? '?'] = Number(m[2]);
  return out;
}

/**
 * Polls until no export is running or queued and the run queue holds no waiting, delayed or active job, or until
 * `deadline`; returns what was still not quiet then.
 */
export async function fleetQuiet(
  api: Api,
  exportIds: readonly string[],
  deadline: number,
): Promise<{ problems: string[]; queue: Record<string, number> }> {
  let problems: string[] = [];
  let queue: Record<string, number> = {};
  for (;;) {
    problems = [];
    try {
      const list = exportsSchema.parse((await api.get('/api/exports')).body).exports;
      for (const e of list) if (e.running) problems.push(`export ${e.id} still running or queued at the end`);
      const missing = exportIds.filter((id) => !list.some((e) => e.id === id));
      if (missing.length > 0) problems.push(`GET /api/exports lacks ${missing.join(', ')}`);
      const metrics = (await api.get('/metrics')).body;
      queue = typeof metrics === 'string' ? queueJobs(metrics) : {};
      for (const [state, n] of Object.entries(queue)) if (n > 0) problems.push(`${n} ${state} job(s) in the run queue`);
      if (Object.keys(queue).length === 0) problems.push('/metrics has no tableau_export_queue_jobs gauge');
    } catch (err) {
      problems.push(`the admin API did not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (problems.length === 0 || Date.now() > deadline) return { problems, queue };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Request retries (the Tableau client's and the Graph client's retry warnings) and error lines, by message. */
export function logFindings(processes: readonly ServiceProcess[]): {
  retries: Record<string, number>;
  errors: Record<string, number>;
} {
  const retries: Record<string, number> = { tableau: 0, onedrive: 0 };
  const errors: Record<string, number> = {};
  for (const p of processes) {
    for (const l of p.logs()) {
      const msg = typeof l.msg === 'string' ? l.msg : '';
      if (l.level === 'warn' && /^OneDrive .*; retry in \d+ ms$/.test(msg))
        retries['onedrive'] = (retries['onedrive'] ?? 0) + 1;
      else if (l.level === 'warn' && /: retrying in \d+ ms after: /.test(msg))
        retries['tableau'] = (retries['tableau'] ?? 0) + 1;
      if (l.level === 'error' || l.level === 'fatal') {
        const key = msg.slice(0, 120);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  }
  return { retries, errors };
}
