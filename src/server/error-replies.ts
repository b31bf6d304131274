/**
 * How errors become HTTP answers, in this one place: the body is always `{ error: { code, message } }`, never a stack
 * trace; fastify's own client errors keep their status, anything else is a logged 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/** Sends the error body `{ error: { code, message, ...extra } }` with `status`. */
export function sendError(
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

/** Installs the 404 handler and the error handler of `app`; unexpected errors are logged on `log`. */
export function registerErrorReplies(app: FastifyInstance, log: Logger): void {
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
}
