/**
 * The admin HTTP server (fastify): health, readiness, Prometheus metrics, the run API and the dashboard page.
 *
 * Authentication comes first, in an `onRequest` hook that runs before routing to a handler (and before the 404
 * handler), so a caller without a valid token learns nothing, not even whether an export id exists. Only the
 * health probes and the dashboard's static files (which contain no data) are public. Errors become HTTP statuses
 * here and only here; the body is always `{ error: { code, message } }`, never a stack trace.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { RunReport } from '../contracts/run-report.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { RunStore } from '../contracts/run-store.js';
import { createAuthenticator, type AdminToken } from './auth.js';
import type { ExportControl } from '../contracts/export-control.js';

/** The part of the run history the server reads. */
export type RunHistory = Pick<RunStore, 'getRun' | 'listRuns' | 'lastSuccess'>;

export interface AdminServerDeps {
  readonly control: ExportControl;
  readonly history: RunHistory;
  /** At least one; see {@link createAuthenticator} for the rules. */
  readonly tokens: readonly AdminToken[];
  readonly logger: Logger;
  /** Registry served at `/metrics` (from `createRunMetrics`); an empty one by default. */
  readonly registry?: Registry | undefined;
  /** Folder holding index.html, dashboard.css, dashboard.js; found next to this module (or in src/) by default. */
  readonly dashboardDir?: string | undefined;
}

export interface AdminServer {
  readonly app: FastifyInstance;
  /** Listens and returns the base URL, e.g. `http://127.0.0.1:8080`. Port 0 picks a free port. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const PUBLIC_PATHS = new Set(['/', '/index.html', '/dashboard.js', '/dashboard.css', '/healthz', '/readyz']);

/** Export and run ids as the config and the run-id generator produce them; anything else cannot exist. */
const idSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@#~-]{0,199}$/);
const runsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(['running', 'succeeded', 'failed', 'skipped', 'unchanged']).optional(),
});

/** Strict Content-Security-Policy for the dashboard: only its own script, style and API. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface DashboardFile {
  readonly body: string;
  readonly type: string;
}

/**
 * Creates the admin server (not listening yet). Throws UsageError on an unusable token list and AppError
 * `DASHBOARD_MISSING` when the dashboard files cannot be found.
 */
export function createAdminServer(deps: AdminServerDeps): AdminServer {
  const authenticate = createAuthenticator(deps.tokens);
  const log = deps.logger.child({ component: 'admin-server' });
  const registry = deps.registry ?? new Registry();
  const dashboard = loadDashboard(deps.dashboardDir);
  const callerOf = new WeakMap<FastifyRequest, string>();

  // Our own logger does the logging (redacted); fastify's per-request lines would log every dashboard poll.
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, return503OnClosing: true });

  // Accept an empty JSON body on POST (curl -H 'content-type: application/json' -X POST ...).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AppError('INVALID_JSON', 'the request body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return;
    const name = authenticate(request.headers.authorization);
    if (name === undefined) {
      return sendError(
        reply.header('www-authenticate', 'Bearer realm="tableau-export"'),
        401,
        'UNAUTHORIZED',
        'a valid admin token is required: send "Authorization: Bearer <token>"',
      );
    }
    callerOf.set(request, name);
    return undefined;
  });

  app.addHook('onSend', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (path.startsWith('/api/') || path === '/metrics') reply.header('cache-control', 'no-store');
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no such endpoint: ${request.method} ${request.url.split('?')[0] ?? ''}`),
  );

  app.setErrorHandler(async (error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError && error.code === 'INVALID_JSON')
      return sendError(reply, 400, error.code, error.message);
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (body too large, bad content type): their messages describe the request only.
      const code = 'code' in error && typeof error.code === 'string' ? error.code : 'BAD_REQUEST';
      return sendError(reply, status, code, error.message);
    }
    log.error(
      { err: error, method: request.method, path: request.url.split('?')[0] },
      `admin API request failed: ${request.method} ${request.url.split('?')[0] ?? ''}`,
    );
    return sendError(reply, 500, 'INTERNAL', 'internal error; see the service log for details');
  });

  // --- public ---------------------------------------------------------------------------------------------------
  for (const [path, file] of [
    ['/', dashboard.html],
    ['/index.html', dashboard.html],
    ['/dashboard.js', dashboard.js],
    ['/dashboard.css', dashboard.css],
  ] as const) {
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', file.type)
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-frame-options', 'DENY')
        .send(file.body),
    );
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const [store, scheduler] = await Promise.all([
      deps.history.listRuns({ limit: 1 }).then(
        () => 'ok',
        (err: unknown) => {
          log.warn({ err }, 'readiness: the run history cannot be read');
          return 'unreachable';
        },
      ),
      deps.control.isReady().then(
        (ready) => (ready ? 'ok' : 'not running'),
        () => 'unreachable',
      ),
    ]);
    const ready = store === 'ok' && scheduler === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: { store, scheduler } });
  });

  // --- authenticated ------------------------------------------------------------------------------------------
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );

  app.get('/api/exports', async () => {
    const exports = await deps.control.list();
    const rows = await Promise.all(
      exports.map(async (e) => {
        const [lastRun, lastSuccess] = await Promise.all([
          deps.history.listRuns({ exportId: e.id, limit: 1 }).then((r) => r[0]),
          deps.history.lastSuccess(e.id),
        ]);
        return {
          id: e.id,
          schedule: e.schedule ?? null,
          timezone: e.timezone,
          nextRun: e.nextRun?.toISOString() ?? null,
          running: e.running,
          runningRunId: e.runningRunId ?? null,
          destination: {
            label: e.destinationLabel,
            webUrl: lastRun?.destination?.webUrl ?? lastSuccess?.destination?.webUrl ?? null,
          },
          lastRun: lastRun === undefined ? null : summarize(lastRun),
          lastSuccessAt: lastSuccess?.finishedAt ?? lastSuccess?.startedAt ?? null,
        };
      }),
    );
    return { exports: rows };
  });

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
    const runs = await deps.history.listRuns({ exportId, limit: query.data.limit, status: query.data.status });
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
    return run;
  });

  app.post<{ Params: { id: string } }>('/api/exports/:id/run', async (request, reply) => {
    const id = idSchema.safeParse(request.params.id);
    const by = callerOf.get(request) ?? 'unknown';
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

  return {
    app,
    async listen(port, host) {
      const url = await app.listen({ port, host });
      log.info({ url }, `admin server listening on ${url}`);
      return url;
    },
    async close() {
      await app.close();
    },
  };
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send({ error: { code, message, ...extra } });
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
  };
}

function loadDashboard(dir: string | undefined): { html: DashboardFile; js: DashboardFile; css: DashboardFile } {
  // From src/server (tsx, tests) the files sit next to this module; from dist/server (built), tsc does not copy
  // them, so fall back to the package's src/server/dashboard.
  const candidates =
    dir !== undefined
      ? [dir]
      : [
          fileURLToPath(new URL('./dashboard/', import.meta.url)),
          fileURLToPath(new URL('../../src/server/dashboard/', import.meta.url)),
        ];
  const found = candidates.find((c) => existsSync(join(c, 'index.html')));
  if (found === undefined) {
    throw new AppError(
      'DASHBOARD_MISSING',
      `the dashboard files (index.html, dashboard.js, dashboard.css) are not in ${candidates.join(' or ')}`,
      {
        hint: 'reinstall the package, or copy src/server/dashboard next to the built server module',
      },
    );
  }
  const read = (name: string, type: string): DashboardFile => ({ body: readFileSync(join(found, name), 'utf8'), type });
  return {
    html: read('index.html', 'text/html; charset=utf-8'),
    js: read('dashboard.js', 'text/javascript; charset=utf-8'),
    css: read('dashboard.css', 'text/css; charset=utf-8'),
  };
}
