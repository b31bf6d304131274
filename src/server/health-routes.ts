/** The probes and the scrape endpoint: `/healthz` (public), `/readyz` (public) and `/metrics` (authenticated). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ExportControl } from '../contracts/export-control.js';
import type { RunStore } from '../contracts/run-store.js';
import type { Logger } from '../shared/logger.js';

export interface HealthRouteDeps {
  readonly control: Pick<ExportControl, 'isReady'>;
  readonly history: Pick<RunStore, 'listRuns'>;
  readonly registry: Registry;
  readonly log: Logger;
}

/**
 * `/healthz` answers while the process serves HTTP; `/readyz` answers 200 only when the run history can be read and
 * the scheduler (or queue) is ready, else 503 with which check failed; `/metrics` is the registry in Prometheus text.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthRouteDeps): void {
  const { registry, log } = deps;
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

  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}
