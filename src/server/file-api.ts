/**
 * The workbook of a local export, served by the admin API: `POST /api/exports/:id/download` gives a short-lived link
 * (a ticket, see download-tickets.ts), `GET /api/exports/:id/file` streams the file to a caller with the token or
 * with that link. Only the file the export's config names is ever read: the path comes from the config, never from
 * the request, so no request can reach another file.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ExportControl, ExportInfo } from '../contracts/export-control.js';
import type { Logger } from '../shared/logger.js';
import { idSchema } from './api-ids.js';
import type { DownloadTickets } from './download-tickets.js';
import { sendError } from './error-replies.js';
import type { CallerOf } from './request-auth.js';

export interface FileApiDeps {
  readonly control: Pick<ExportControl, 'list'>;
  readonly tickets: DownloadTickets;
  readonly callerOf: CallerOf;
  readonly log: Logger;
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Registers the download routes: 404 `EXPORT_NOT_FOUND`, `NOT_LOCAL` (a OneDrive export), `NO_FILE_YET`. */
export function registerFileApi(app: FastifyInstance, deps: FileApiDeps): void {
  const findLocal = async (
    rawId: string,
  ): Promise<{ exp: ExportInfo; file: string } | { status: 404; code: string; message: string }> => {
    const id = idSchema.safeParse(rawId);
    const exp = id.success ? (await deps.control.list()).find((e) => e.id === id.data) : undefined;
    if (exp === undefined)
      return { status: 404, code: 'EXPORT_NOT_FOUND', message: 'no export with this id; GET /api/exports lists them' };
    if (exp.localFile === undefined) {
      return {
        status: 404,
        code: 'NOT_LOCAL',
        message: `export '${exp.id}' is delivered to ${exp.destinationLabel}; open it there`,
      };
    }
    return { exp, file: exp.localFile };
  };

  app.post<{ Params: { id: string } }>('/api/exports/:id/download', async (request, reply) => {
    const found = await findLocal(request.params.id);
    if ('status' in found) return sendError(reply, found.status, found.code, found.message);
    const { ticket, expiresAt } = deps.tickets.issue(found.exp.id, deps.callerOf(request) ?? 'unknown');
    return {
      url: `/api/exports/${encodeURIComponent(found.exp.id)}/file?ticket=${encodeURIComponent(ticket)}`,
      expiresAt: expiresAt.toISOString(),
      fileName: basename(found.file),
    };
  });

  app.get<{ Params: { id: string } }>('/api/exports/:id/file', async (request, reply) => {
    const found = await findLocal(request.params.id);
    if ('status' in found) return sendError(reply, found.status, found.code, found.message);
    const info = await stat(found.file).catch(() => undefined);
    if (info === undefined || !info.isFile()) {
      return sendError(
        reply,
        404,
        'NO_FILE_YET',
        `there is no workbook at ${found.file} on this machine yet; it is written by the export's first successful run (in queue mode, on the machine of the worker that ran it)`,
      );
    }
    const name = basename(found.file);
    deps.log.info(
      { exportId: found.exp.id, by: deps.callerOf(request), bytes: info.size },
      `workbook of export '${found.exp.id}' downloaded by ${deps.callerOf(request) ?? 'unknown'}`,
    );
    return reply
      .header('content-type', XLSX)
      .header('content-length', String(info.size))
      .header(
        'content-disposition',
        `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      )
      .send(createReadStream(found.file));
  });
}
