/**
 * The exports API: `GET /api/exports` (every export with its schedule, state, live progress, last run and what
 * teammates have now) and `POST /api/exports/:id/run` (Sync now).
 */
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ExportControl, ExportInfo } from '../contracts/export-control.js';
import type { RunReport } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import type { Logger } from '../shared/logger.js';
import { idSchema } from './api-ids.js';
import { deliveredWorkbook } from './delivery-view.js';
import { sendError } from './error-replies.js';
import type { LiveRuns } from './live-runs.js';
import type { CallerOf } from './request-auth.js';

export interface ExportsApiDeps {
  readonly control: ExportControl;
  readonly history: Pick<RunStore, 'listRuns' | 'lastSuccess'>;
  readonly live: LiveRuns;
  readonly callerOf: CallerOf;
  readonly log: Logger;
}

/**
 * Registers the exports API. A started run answers 202 with its run id and a `location`; a run of the export already
 * queued or running answers 409 `RUN_IN_PROGRESS`, an unknown id 404 `EXPORT_NOT_FOUND`, an unavailable queue 503.
 */
export function registerExportsApi(app: FastifyInstance, deps: ExportsApiDeps): void {
  const { log } = deps;
  app.get('/api/exports', async () => {
    const exports = await deps.control.list();
    const rows = await Promise.all(exports.map((e) => describeExport(e, deps)));
    return { exports: rows };
  });

  app.post<{ Params: { id: string } }>('/api/exports/:id/run', async (request, reply) => {
    const id = idSchema.safeParse(request.params.id);
    const by = deps.callerOf(request) ?? 'unknown';
    const result = id.success ? await deps.control.trigger(id.data, by) : ({ outcome: 'not-found' } as const);
    switch (result.outcome) {
      case 'started':
        log.info(
          { exportId: id.data, runId: result.runId, by },
          `manual run of export '${id.data ?? ''}' started by ${by}`,
        );
        return reply
          .code(202)
          .header('location', `/api/runs/${encodeURIComponent(result.runId)}`)
          .send({ runId: result.runId });
      case 'conflict':
        return sendError(
          reply,
          409,
          'RUN_IN_PROGRESS',
          `export '${id.data ?? ''}' is already running or queued${result.runningRunId === undefined ? '' : ` (run ${result.runningRunId})`}; wait for it to end`,
          result.runningRunId === undefined ? {} : { runId: result.runningRunId },
        );
      case 'not-found':
        return sendError(reply, 404, 'EXPORT_NOT_FOUND', 'no export with this id; GET /api/exports lists them');
      case 'unavailable':
        return sendError(reply, 503, 'UNAVAILABLE', result.message);
    }
  });
}

async function describeExport(e: ExportInfo, deps: ExportsApiDeps): Promise<Record<string, unknown>> {
  const [lastRun, lastSuccess] = await Promise.all([
    deps.history.listRuns({ exportId: e.id, limit: 1 }).then((r) => r[0]),
    deps.history.lastSuccess(e.id),
  ]);
  const live = e.running
    ? e.runningRunId === undefined
      ? deps.live.ofExport(e.id)
      : deps.live.get(e.runningRunId)
    : undefined;
  return {
    id: e.id,
    schedule: e.schedule ?? null,
    timezone: e.timezone,
    nextRun: e.nextRun?.toISOString() ?? null,
    running: e.running,
    mode: e.updateMode === true ? 'update' : 'replace',
    runningRunId: e.runningRunId ?? null,
    progress: live ?? null,
    destination: {
      label: e.destinationLabel,
      kind: e.localFile === undefined ? 'onedrive' : 'local',
      webUrl: lastRun?.destination?.webUrl ?? lastSuccess?.destination?.webUrl ?? null,
      path: e.localFile ?? null,
      fileName: e.localFile === undefined ? null : basename(e.localFile),
    },
    lastRun: lastRun === undefined ? null : summarize(lastRun),
    lastSuccessAt: lastSuccess?.finishedAt ?? lastSuccess?.startedAt ?? null,
    teammatesHave: deliveredWorkbook(lastSuccess),
  };
}

function summarize(run: RunReport): Record<string, unknown> {
  return {
    runId: run.runId,
    status: run.status,
    trigger: run.trigger,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    durationMs: run.durationMs ?? null,
    rows: run.rows,
    bytes: run.bytes,
    error: run.error ?? null,
    warnings: run.warnings.length,
    note: run.note ?? null,
    attempt: run.attempt ?? null,
    attempts: run.attempts?.length ?? null,
    // A burst: which values were delivered and which failed (the run's detail has the rest).
    parts: run.parts?.map((p) => ({ value: p.value, status: p.status })) ?? null,
  };
}
