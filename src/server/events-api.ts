/**
 * `GET /api/events`: server-sent events of the runs in progress, for the dashboard. Authenticated like every API
 * route, by the `Authorization` header: the dashboard reads the stream with fetch (EventSource cannot send headers,
 * and the admin token must never travel in a URL, where proxies and access logs keep it).
 *
 * Events: `live` (every run in progress, sent at once and then every few seconds, so a run that went quiet shows as
 * stalled without any news from it), `progress` (one run's new state) and `ended` (a run finished: read its report).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { LiveRuns } from './live-runs.js';

export interface EventsApiDeps {
  readonly live: LiveRuns;
  /** How often the full list is sent again (ms). Default 5 000. */
  readonly snapshotEveryMs?: number | undefined;
}

/** Registers the event stream; open streams are ended when the server closes (so shutdown never waits on them). */
export function registerEventsApi(app: FastifyInstance, deps: EventsApiDeps): void {
  const open = new Set<ServerResponse>();
  const every = deps.snapshotEveryMs ?? 5_000;

  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/api/events', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Reverse proxies (nginx) must pass events on as they come, not buffer them.
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown): void => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 3000\n\n');
    send('live', { runs: deps.live.list() });
    const unsubscribe = deps.live.subscribe((e) => send(e.kind, e.kind === 'progress' ? e.run : e.ended));
    const timer = setInterval(() => send('live', { runs: deps.live.list() }), every);
    open.add(res);
    const stop = (): void => {
      clearInterval(timer);
      unsubscribe();
      open.delete(res);
    };
    request.raw.on('close', stop);
    res.on('close', stop);
  });
}
