/** Writes a simulator answer to the socket, applying a body fault (slow or cut body) to successful answers. */
import type { ServerResponse } from 'node:http';
import type { TableauFault } from './fault-injection.js';
import type { SimResponse } from './sim-reply.js';

/**
 * Sends `answer`: a Buffer with Content-Length, or streamed chunks with backpressure. A `slow-body` or `cut-body`
 * fault applies only to a 200 answer; other faults were already turned into the answer.
 */
export async function sendResponse(
  res: ServerResponse,
  answer: SimResponse,
  fault: TableauFault | undefined,
): Promise<void> {
  const bodyFault =
    fault !== undefined && (fault.kind === 'slow-body' || fault.kind === 'cut-body') && answer.status === 200
      ? fault
      : undefined;
  if (bodyFault === undefined) {
    if (Buffer.isBuffer(answer.body)) {
      res.writeHead(answer.status, { ...answer.headers, 'Content-Length': String(answer.body.length) });
      res.end(answer.body);
      return;
    }
    res.writeHead(answer.status, answer.headers);
    for (const chunk of answer.body) {
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
      if (res.destroyed) return;
    }
    res.end();
    return;
  }
  const full = Buffer.isBuffer(answer.body) ? answer.body : Buffer.from([...answer.body].join(''));
  if (bodyFault.kind === 'slow-body') {
    const half = Math.floor(full.length / 2);
    res.writeHead(answer.status, { ...answer.headers, 'Content-Length': String(full.length) });
    res.write(full.subarray(0, half));
    await new Promise((resolve) => setTimeout(resolve, bodyFault.delayMs));
    if (!res.destroyed) res.end(full.subarray(half));
    return;
  }
  const cutAt = Math.min(full.length - 1, bodyFault.afterBytes ?? Math.floor(full.length / 2));
  res.writeHead(
    answer.status,
    bodyFault.chunked === true ? answer.headers : { ...answer.headers, 'Content-Length': String(full.length) },
  );
  res.write(full.subarray(0, cutAt));
  await new Promise((resolve) => setTimeout(resolve, 20));
  res.socket?.destroy();
}
