/**
 * Sends the finished workbook into the target folder with conflictBehavior replace (same item id and links, one
 * more version): small files in one PUT, larger ones through a resumable upload session. Update mode adds
 * conditions: `If-Match` (write only over the version that was read) or create-only (conflictBehavior fail); a
 * refused condition becomes DESTINATION_CHANGED, never a retry.
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
import { fileAppearedError, fileChangedError } from '../update-mode-errors.js';
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

/** Update mode's conditions on a write; none means replace whatever is there. */
export interface WriteConditions {
  /** Write only if the file still has this eTag (sent as `If-Match`). */
  readonly ifMatch?: string | undefined;
  /** Write only if no file has the name yet (conflictBehavior `fail`). */
  readonly ifAbsent?: boolean | undefined;
  /** Hears the bytes the destination has accepted, out of the file's size (live progress). */
  readonly onProgress?: ((bytesSent: number, bytesTotal: number) => void) | undefined;
}

/** Uploads `file` as `name` into the target folder and returns the committed driveItem. */
export type WorkbookUpload = (
  file: FinishedFile,
  name: string,
  signal: AbortSignal,
  conditions?: WriteConditions,
) => Promise<DriveItem>;

/**
 * Creates the upload into `target`'s folder. The returned function resolves the drive and the parent folder, and
 * re-resolves the parent once if it vanished since it was cached (folder deleted or moved: the upload answers 404).
 * It throws DestinationError `DESTINATION_CHANGED` when a condition is refused (412 with `ifMatch`, 409 with
 * `ifAbsent`, or a vanished folder with `ifMatch`), GraphRequestError (423 locked, 507 quota, 403, ...),
 * AbortedError, or another DestinationError.
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
    conditions: WriteConditions,
  ): Promise<DriveItem> => {
    const label = target.locationOf(name);
    if (file.bytes <= options.thresholdBytes) {
      // Small files are read whole (at most the threshold) and sent in one request.
      const body = await readFile(file.path);
      const behavior = conditions.ifAbsent === true ? 'fail' : 'replace';
      const item = await graph.call({
        operation: `upload '${label}'`,
        method: 'PUT',
        path: `/drives/${encodeURIComponent(d)}/items/${encodeURIComponent(parent)}:/${encodeURIComponent(name)}:/content?@microsoft.graph.conflictBehavior=${behavior}`,
        body,
        headers: {
          'Content-Type': contentTypeFor(name),
          ...(conditions.ifMatch === undefined ? {} : { 'If-Match': conditions.ifMatch }),
        },
        schema: driveItemSchema,
        signal,
        noRetryStatuses: [409, 412],
      });
      conditions.onProgress?.(file.bytes, file.bytes);
      return item;
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
        ifMatch: conditions.ifMatch,
        ifAbsent: conditions.ifAbsent,
        onProgress: conditions.onProgress,
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

  const uploadToFolder = async (
    file: FinishedFile,
    name: string,
    signal: AbortSignal,
    conditions: WriteConditions,
  ): Promise<DriveItem> => {
    const d = await target.resolveDrive(signal);
    const parent = await target.ensureParent(d, signal);
    try {
      return await uploadOnce(file, name, d, parent, signal, conditions);
    } catch (error) {
      if (!(error instanceof GraphRequestError && error.status === 404)) throw error;
      // The folder of the file that was read is gone: so is that file, which is a change, not a folder to recreate.
      if (conditions.ifMatch !== undefined) {
        throw fileChangedError(label(name), 'its folder was deleted or moved', {
          cause: error,
          details: error.details,
        });
      }
      if (!target.forgetParent()) throw error;
      return uploadOnce(file, name, d, await target.ensureParent(d, signal), signal, conditions);
    }
  };
  const label = (name: string): string => target.locationOf(name);

  return async (file, name, signal, conditions = {}) => {
    try {
      return await uploadToFolder(file, name, signal, conditions);
    } catch (error) {
      throw refusedCondition(error, label(name), conditions) ?? error;
    }
  };
}

/** DESTINATION_CHANGED for a refused condition (412 under If-Match, 409 under create-only); undefined otherwise. */
function refusedCondition(error: unknown, location: string, conditions: WriteConditions): Error | undefined {
  if (!(error instanceof GraphRequestError)) return undefined;
  const facts = { cause: error, details: error.details };
  if (error.status === 412 && conditions.ifMatch !== undefined) {
    return fileChangedError(location, 'OneDrive answered 412 Precondition Failed: its eTag changed', facts);
  }
  if (error.status === 409 && conditions.ifAbsent === true) {
    return fileAppearedError(location, 'OneDrive answered 409 nameAlreadyExists', facts);
  }
  return undefined;
}
