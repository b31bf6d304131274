/**
 * One request through the Graph simulator: routed to the upload URL, the Graph API or the Entra ID routes, and
 * answered with Graph's headers (`request-id`, echoed `client-request-id`), an `HttpFault` becoming Graph's error
 * body. Every answer is logged in the stats, upload URLs without their credential.
 */
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, HttpFault, type Reply } from './graph-reply.js';
import type { GraphSimState } from './graph-state.js';
import { routeDownloadUrl } from './routes/download-routes.js';
import { routeGraphApi } from './routes/graph-api-routes.js';
import { routeTokenService } from './routes/token-routes.js';
import { routeUploadUrl } from './routes/upload-session-routes.js';

/** Handles one request; never throws (a bug becomes a 500 generalException). */
export function handleRequest(state: GraphSimState, req: IncomingMessage, res: ServerResponse): void {
  const { stats } = state;
  stats.requests++;
  const requestId = randomUUID();
  const clientRequestId = req.headers['client-request-id'];
  const url = new URL(req.url ?? '/', state.origin);
  const send = (reply: Reply): void => {
    const headers: Record<string, string> = { 'request-id': requestId, ...reply.headers };
    if (typeof clientRequestId === 'string') headers['client-request-id'] = clientRequestId;
    if (reply.status >= 400) stats.errors.push({ op: lastOp(url, req.method), status: reply.status });
    stats.log.push({ method: req.method ?? '', target: logTarget(url), status: reply.status });
    if (reply.file !== undefined) {
      sendFile(res, headers, reply.status, reply.file);
      return;
    }
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    const payload = Buffer.from(JSON.stringify(reply.body));
    res
      .writeHead(reply.status, {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(payload.length),
      })
      .end(payload);
  };
  routeRequest(state, req, url).then(
    (reply) => {
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      send(reply);
    },
    (error: unknown) => {
      if (error instanceof HttpFault) {
        // Drain what the client still sends so it reads our answer instead of a reset.
        req.resume();
        send({
          status: error.status,
          body: errorBody(error.codes, error.message, requestId),
          headers: error.headers,
        });
        return;
      }
      send({
        status: 500,
        body: errorBody(['generalException'], error instanceof Error ? error.message : String(error), requestId),
      });
    },
  );
}

async function routeRequest(state: GraphSimState, req: IncomingMessage, url: URL): Promise<Reply | 'reset'> {
  const segs = url.pathname.split('/').filter((s) => s !== '');
  if (segs[0] === 'up') return routeUploadUrl(state, req, url);
  if (segs[0] === 'download') return routeDownloadUrl(state, req, url);
  if (segs[0] === 'v1.0') return routeGraphApi(state, req, url);
  const reply = await routeTokenService(state, req, decodeURIComponent(segs[0] ?? ''), segs.slice(1).join('/'));
  if (reply !== undefined) return reply;
  throw new HttpFault(404, ['itemNotFound'], `No route for ${req.method ?? ''} ${url.pathname}`);
}

/** Upload and download URLs carry their credential in the path or query: never in the log. */
function logTarget(url: URL): string {
  if (url.pathname.startsWith('/up/')) return '/up/…';
  if (url.pathname.startsWith('/download/')) return '/download/…';
  return `${url.pathname}${url.search}`;
}

function lastOp(url: URL, method: string | undefined): string {
  const target = logTarget(url);
  return `${method ?? ''} ${target.endsWith('…') ? target : url.pathname}`;
}

/**
 * Streams a file body from disk (memory stays one read buffer). The size is taken from the open file, so a save
 * landing meanwhile cannot make Content-Length lie. `cutAtHalf` ends the connection after half the bytes.
 */
function sendFile(
  res: ServerResponse,
  headers: Record<string, string>,
  status: number,
  file: NonNullable<Reply['file']>,
): void {
  const fail = (): void => {
    res.destroy();
  };
  const stream = async (): Promise<void> => {
    const handle = await open(file.path, 'r');
    try {
      const { size } = await handle.stat();
      res.writeHead(status, { ...headers, 'content-length': String(size) });
      const half = Math.floor(size / 2);
      const cut = file.cutAtHalf === true && half > 0;
      // The stream closes the handle when it ends or fails.
      const body = handle.createReadStream(cut ? { start: 0, end: half - 1 } : {});
      body.on('error', fail);
      if (!cut) {
        body.pipe(res);
        return;
      }
      body.pipe(res, { end: false });
      // A graceful end of the socket flushes what was written, so the client really gets half a body.
      body.on('end', () => res.socket?.end());
    } catch (error) {
      await handle.close();
      throw error;
    }
  };
  stream().catch(fail);
}
