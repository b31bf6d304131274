/** Request bodies of the Graph simulator: read with a size limit, and JSON objects parsed as Graph requires. */
import type { IncomingMessage } from 'node:http';
import { HttpFault } from './graph-reply.js';

/** The whole body; rejects with a 413 (and destroys the request) beyond `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        reject(new HttpFault(413, ['maxFragmentLengthExceeded'], 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The body as a JSON object; throws a 400 invalidRequest for anything else. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpFault(400, ['invalidRequest'], 'The request body must be a JSON object.');
}
