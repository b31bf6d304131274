/**
 * One request through the Tableau simulator: logged in `stats.requests`, counted while it is a data download,
 * hit by the next matching fault (which may drop the connection, expire the session or replace the answer), routed,
 * and sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { classifyEndpoint, statusFaultResponse, takeFault } from './fault-injection.js';
import { routeRequest } from './routes/route-request.js';
import { sendResponse } from './send-response.js';
import type { SimRequestLogEntry, TableauSimState } from './sim-state.js';

/** Handles one request; resolves once the answer is sent (or the connection dropped). */
export async function handleRequest(state: TableauSimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { stats } = state;
  const url = new URL(req.url ?? '/', 'https://simulator.invalid');
  const method = req.method ?? 'GET';
  const endpoint = classifyEndpoint(url.pathname);
  const entry: SimRequestLogEntry = {
    method,
    path: url.pathname,
    query: url.search.replace(/^\?/, ''),
    endpoint,
    status: 0,
  };
  stats.requests.push(entry);
  const isData = endpoint === 'data';
  if (isData) {
    stats.currentDataRequests += 1;
    stats.maxConcurrentDataRequests = Math.max(stats.maxConcurrentDataRequests, stats.currentDataRequests);
    res.once('close', () => {
      stats.currentDataRequests -= 1;
    });
  }
  const apiVersion = /^\/api\/(\d+\.\d+)\//.exec(url.pathname)?.[1] ?? state.config.maxApi;
  const fault = takeFault(state.faultQueue, endpoint);
  if (fault?.kind === 'reset') {
    entry.status = -1;
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'expire-session') {
    const token = req.headers['x-tableau-auth'];
    if (typeof token === 'string') state.sessions.delete(token);
  }
  let answer = fault === undefined ? undefined : statusFaultResponse(state.w, fault, apiVersion);
  if (answer === undefined) {
    try {
      answer = await routeRequest(state, req, url);
    } catch (err) {
      answer = {
        status: 500,
        headers: { 'Content-Type': 'text/plain' },
        body: Buffer.from(`simulator error: ${String(err)}`),
      };
    }
  } else {
    // Drain the request body of faulted requests so the connection stays usable.
    req.resume();
  }
  entry.status = answer.status;
  await sendResponse(res, answer, fault);
}
