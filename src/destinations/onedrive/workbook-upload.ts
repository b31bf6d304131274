/**
 * Sends the finished workbook into the target folder with conflictBehavior replace (same item id and links, one
 * more version): small files in one PUT, larger ones through a resumable upload session.
 */
import { readFile } from 'node:fs/promises';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import type { RetryPolicy } from '../../shared/retry.js';
import type { FinishedFile } from '../../contracts/ports.js';
import { contentTypeFor, driveItemSchema, type DriveItem } from './drive-item.js';
import type { DriveTarget } from './drive-target.js';
import type { GraphApi } from './graph-api.js';
import { GraphRequestError } from './graph-errors.js';
import type { HttpTransport } from './https-transport.js';
import { uploadFileInSession } from './upload-session.js';

export interface WorkbookUploadOptions {
  /** Files up to this size go up in one PUT; larger ones in an upload session. */
  readonly thresholdBytes: number;
  /** Upload-session fragment size (rounded down to a multiple of 320 KiB by the session). */
  readonly chunkBytes: number;
  readonly retry: RetryPolicy;
}

export interface WorkbookUploadDeps {
  readonly graph: GraphApi;
  readonly transport: HttpTransport;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
}

/** Uploads `file` as `name` into the target folder and returns the committed driveItem. */
export type WorkbookUpload = (file: FinishedFile, name: string, signal: AbortSignal) => Promise<DriveItem>;

/**
 * Creates the upload into `target`'s folder. The returned function resolves the drive and the parent folder, and
 * re-resolves the parent once if it vanished since it was cached (folder deleted or moved: the upload answers 404).
 * It throws GraphRequestError (423 locked, 507 quota, 403, ...), AbortedError, or DestinationError.
 */
export function createWorkbookUpload(
  target: DriveTarget,
  options: WorkbookUploadOptions,
  deps: WorkbookUploadDeps,
): WorkbookUpload {
  const { graph } = deps;

  const uploadOnce = async (
    file: FinishedFile,
    name: string,
    d: string,
    parent: string,
    signal: AbortSignal,
  ): Promise<DriveItem> => {
    const label = target.locationOf(name);
    if (file.bytes <= options.thresholdBytes) {
      // Small files are read whole (at most the threshold) and sent in one request.
      const body = await readFile(file.path);
      return graph.call({
        operation: `upload '${label}'`,
        method: 'PUT',
        path: `/drives/${encodeURIComponent(d)}/items/${encodeURIComponent(parent)}:/${encodeURIComponent(name)}:/content?@microsoft.graph.conflictBehavior=replace`,
        body,
        headers: { 'Content-Type': contentTypeFor(name) },
        schema: driveItemSchema,
        signal,
      });
    }
    return uploadFileInSession(
      {
        driveId: d,
        parentId: parent,
        name,
        label,
        filePath: file.path,
        fileSize: file.bytes,
        chunkBytes: options.chunkBytes,
        signal,
      },
      {
        graph,
        transport: deps.transport,
        logger: deps.logger,
        redactor: deps.redactor,
        clock: deps.clock,
        sleep: deps.sleep,
        random: deps.random,
        retry: options.retry,
      },
    );
  };

  return async (file, name, signal) => {
    const d = await target.resolveDrive(signal);
    const parent = await target.ensureParent(d, signal);
    try {
      return await uploadOnce(file, name, d, parent, signal);
    } catch (error) {
      if (!(error instanceof GraphRequestError && error.status === 404) || !target.forgetParent()) throw error;
      return uploadOnce(file, name, d, await target.ensureParent(d, signal), signal);
    }
  };
}
