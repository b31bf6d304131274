/**
 * The admin HTTP server (fastify): health, readiness, Prometheus metrics, the run API and the dashboard page.
 *
 * Authentication comes first, in an `onRequest` hook that runs before routing to a handler (and before the 404
 * handler), so a caller without a valid token learns nothing, not even whether an export id exists (request-auth.ts).
 * Only the health probes and the dashboard's static files (which contain no data) are public. Errors become HTTP
 * statuses in one place (error-replies.ts); the body is always `{ error: { code, message } }`, never a stack trace.
 * The routes live by family: health-routes.ts, exports-api.ts, runs-api.ts, events-api.ts (live progress),
 * file-api.ts (local workbooks), dashboard-assets.ts.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { RunStore } from '../contracts/run-store.js';
import { createAuthenticator, type AdminToken } from './auth.js';
import { createLoginThrottle } from './login-throttle.js';
import type { ExportControl } from '../contracts/export-control.js';
import { loadDashboard, registerDashboardRoutes } from './dashboard-assets.js';
import { registerErrorReplies } from './error-replies.js';
import { createDownloadTickets } from './download-tickets.js';
import { registerEventsApi } from './events-api.js';
import { registerExportsApi } from './exports-api.js';
import { registerFileApi } from './file-api.js';
import { createLiveRuns, type LiveRuns } from './live-runs.js';
import { registerHealthRoutes } from './health-routes.js';
import { createRequestGuard } from './request-auth.js';
import { registerRunsApi } from './runs-api.js';
import { registerLiveRunMetrics } from './metrics.js';

/** The part of the run history the server reads. */
export type RunHistory = Pick<RunStore, 'getRun' | 'listRuns' | 'lastSuccess'>;

export interface AdminServerDeps {
  readonly control: ExportControl;
  readonly history: RunHistory;
  /** At least one; see {@link createAuthenticator} for the rules. */
  readonly tokens: readonly AdminToken[];
  /** Least estimated token strength in bits (ADMIN_TOKEN_MIN_ENTROPY); 128 by default. */
  readonly minTokenEntropyBits?: number | undefined;
  /** Backoff after failed logins from one address (`server.failedLogins`); 10 per minute, up to 15 min, by default. */
  readonly failedLogins?: FailedLoginSettings | undefined;
  readonly logger: Logger;
  /** Registry served at `/metrics` (from `createRunMetrics`); an empty one by default. */
  readonly registry?: Registry | undefined;
  /** Folder holding index.html, dashboard.css, dashboard.js; found next to this module (or in src/) by default. */
  readonly dashboardDir?: string | undefined;
  /** The runs in progress (fed by the scheduler, or by the Redis relay in queue mode); an empty view by default. */
  readonly live?: LiveRuns | undefined;
  readonly clock?: Clock | undefined;
  /** How often the event stream resends the list of runs in progress (ms). Default 5 000. */
  readonly liveSnapshotEveryMs?: number | undefined;
}

export interface FailedLoginSettings {
  /** Failures within `windowMs` that block the address. */
  readonly limit: number;
  /** The window, and the first block's length (ms); each further block doubles. */
  readonly windowMs: number;
  /** Longest block (ms). */
  readonly maxBlockMs: number;
}

export interface AdminServer {
  readonly app: FastifyInstance;
  /** The runs in progress this server shows (publish progress events into it). */
  readonly live: LiveRuns;
  /** Listens and returns the base URL, e.g. `http://127.0.0.1:8080`. Port 0 picks a free port (the caller logs it). */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Creates the admin server (not listening yet). Throws UsageError on an unusable token list and AppError
 * `DASHBOARD_MISSING` when the dashboard files cannot be found.
 */
export function createAdminServer(deps: AdminServerDeps): AdminServer {
  const authenticate = createAuthenticator(deps.tokens, { minEntropyBits: deps.minTokenEntropyBits });
  const log = deps.logger.child({ component: 'admin-server' });
  const registry = deps.registry ?? new Registry();
  const dashboard = loadDashboard(deps.dashboardDir);
  const clock = deps.clock ?? systemClock;
  const live = deps.live ?? createLiveRuns({ clock });
  const tickets = createDownloadTickets({ tokens: deps.tokens, clock });
  registerLiveRunMetrics(registry, live);

  const guard = createRequestGuard({
    authenticate,
    tickets,
    throttle: createLoginThrottle({ clock, ...deps.failedLogins }),
    log,
  });

  // Our own logger does the logging (redacted); fastify's per-request lines would log every dashboard poll. Router
  // errors go through the guard too (frameworkErrors), so they are answered after authentication like the rest.
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    return503OnClosing: true,
    frameworkErrors: guard.frameworkErrors,
  });

  acceptEmptyJsonBodies(app);
  app.addHook('onRequest', guard.onRequest);
  const callerOf = guard.callerOf;
  app.addHook('onSend', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (path.startsWith('/api/') || path === '/metrics') reply.header('cache-control', 'no-store');
  });
  registerErrorReplies(app, log);

  registerDashboardRoutes(app, dashboard);
  registerHealthRoutes(app, { control: deps.control, history: deps.history, registry, log });
  registerExportsApi(app, { control: deps.control, history: deps.history, live, callerOf, log });
  registerRunsApi(app, { control: deps.control, history: deps.history, live });
  registerEventsApi(app, { live, snapshotEveryMs: deps.liveSnapshotEveryMs });
  registerFileApi(app, { control: deps.control, tickets, callerOf, log });

  return {
    app,
    live,
    async listen(port, host) {
      return app.listen({ port, host });
    },
    async close() {
      await app.close();
    },
  };
}

/** JSON bodies are parsed by us: an invalid one becomes AppError `INVALID_JSON` (400), an empty one no body. */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
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
}
