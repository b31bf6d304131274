/**
 * The runs API: `GET /api/exports/:id/runs` (an export's history) and `GET /api/runs/:id` (one run's report, with its
 * live progress while it runs and, when it did not deliver, what the destination still holds).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ExportControl } from '../contracts/export-control.js';
import type { RunStore } from '../contracts/run-store.js';
import { idSchema } from './api-ids.js';
import { deliveredWorkbook, lastSuccessBefore } from './delivery-view.js';
import { sendError } from './error-replies.js';
import type { LiveRuns } from './live-runs.js';

const runsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(['running', 'succeeded', 'failed', 'skipped', 'unchanged']).optional(),
  trigger: z.enum(['schedule', 'manual', 'cli', 'catch-up']).optional(),
});

export interface RunsApiDeps {
  readonly control: Pick<ExportControl, 'list'>;
  readonly history: Pick<RunStore, 'getRun' | 'listRuns' | 'lastSuccess'>;
  readonly live: LiveRuns;
}

/**
 * Registers the runs API: newest runs first (`?limit=1..500`, default 50; `?status=`; `?trigger=`), 400
 * `INVALID_QUERY` for a bad query, 404 `EXPORT_NOT_FOUND` / `RUN_NOT_FOUND` for ids that do not exist. A run is found
 * by the id "Sync now" gave out and by any of its attempt ids; it reads the outcome of its latest attempt.
 */
export function registerRunsApi(app: FastifyInstance, deps: RunsApiDeps): void {
  app.get<{ Params: { id: string } }>('/api/exports/:id/runs', async (request, reply) => {
    const id = idSchema.safeParse(request.params.id);
    const exportId = id.success ? id.data : undefined;
    if (exportId === undefined || !(await deps.control.list()).some((e) => e.id === exportId)) {
      return sendError(reply, 404, 'EXPORT_NOT_FOUND', 'no export with this id; GET /api/exports lists them');
    }
    const query = runsQuerySchema.safeParse(request.query);
    if (!query.success) {
      return sendError(
        reply,
        400,
        'INVALID_QUERY',
        `invalid query: ${query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const { limit, status, trigger } = query.data;
    const runs = await deps.history.listRuns({ exportId, limit, status, trigger });
    return { runs };
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id', async (request, reply) => {
    const id = idSchema.safeParse(request.params.id);
    const run = id.success ? await deps.history.getRun(id.data) : undefined;
    if (run === undefined)
      return sendError(
        reply,
        404,
        'RUN_NOT_FOUND',
        'no run with this id; GET /api/exports/<export id>/runs lists them',
      );
    const delivered = run.status === 'succeeded' || run.status === 'unchanged';
    return {
      ...run,
      progress: run.status === 'running' ? (deps.live.get(run.runId) ?? null) : null,
      destinationHolds: delivered ? null : deliveredWorkbook(await lastSuccessBefore(deps.history, run)),
    };
  });
}
