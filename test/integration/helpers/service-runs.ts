/**
 * Run-level helpers over the admin API for the service tests: start a manual run, wait for it to end, read the run
 * record, and the export YAML that forces a resumable upload of several fragments (so a test can stop a process in
 * the middle of an upload).
 */
import { readdir } from 'node:fs/promises';
import { expect } from 'vitest';
import { sampleExportYaml } from './sim-env.js';
import { pollFor, type ApiResponse } from './service-process.js';

/** The parts of a stored run report the service tests look at. */
export interface RunRecord {
  readonly runId: string;
  readonly exportId: string;
  readonly status: string;
  readonly attempt?: number;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs?: number;
  readonly trigger: { kind: string; by?: string };
  readonly error?: { code: string; message: string };
  readonly destination?: { location: string; webUrl?: string; itemId?: string };
  readonly worker?: string;
  readonly attempts?: readonly {
    attempt: number;
    status: string;
    worker?: string;
    error?: { code: string; message: string };
  }[];
}

interface Api {
  get(path: string): Promise<ApiResponse>;
  post(path: string): Promise<ApiResponse>;
}

/** POST /api/exports/:id/run; expects 202 and returns the run id. */
export async function startRun(api: Api, exportId: string): Promise<string> {
  const res = await api.post(`/api/exports/${encodeURIComponent(exportId)}/run`);
  expect(res.status, `POST run of ${exportId}: ${JSON.stringify(res.body)}`).toBe(202);
  const body = res.body as { runId?: unknown };
  if (typeof body.runId !== 'string')
    throw new Error(`POST run of ${exportId} answered without a runId: ${JSON.stringify(res.body)}`);
  return body.runId;
}

/** GET /api/runs/:id, or undefined on 404. */
export async function getRun(api: Api, runId: string): Promise<RunRecord | undefined> {
  const res = await api.get(`/api/runs/${encodeURIComponent(runId)}`);
  if (res.status === 404) return undefined;
  expect(res.status, `GET run ${runId}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body as RunRecord;
}

/** Polls the run until it is recorded with a status other than `running`. */
export function waitRunEnd(api: Api, runId: string, timeoutMs = 30_000): Promise<RunRecord> {
  return pollFor(`run ${runId} to end`, timeoutMs, async () => {
    const run = await getRun(api, runId);
    return run !== undefined && run.status !== 'running' ? run : undefined;
  });
}

/** Starts a run and waits for its end. */
export async function runToEnd(api: Api, exportId: string, timeoutMs = 30_000): Promise<RunRecord> {
  return waitRunEnd(api, await startRun(api, exportId), timeoutMs);
}

/**
 * The sample export, with a workbook big enough (stored uncompressed) to go through an upload session of several
 * 320 KiB fragments, and every run uploading even when the data did not change.
 */
export function fragmentedUploadExportYaml(id: string, path: string): string {
  return sampleExportYaml({
    id,
    path,
    extra: [
      '      skipUnchanged: false',
      '      uploadSessionThreshold: 327680',
      '      chunkSize: 327680',
      '    zipLevel: 0',
      '',
    ].join('\n'),
  });
}

/** Files and folders left in a folder (none when it does not exist). */
export async function leftovers(dir: string): Promise<string[]> {
  try {
    return await readdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Polls the export's run list (GET /api/exports/:id/runs) until `runId` is there with a status other than `running`.
 * Independent of GET /api/runs/:id, so a test can follow a run even where that endpoint misbehaves.
 */
export function waitRunEndInList(api: Api, exportId: string, runId: string, timeoutMs = 30_000): Promise<RunRecord> {
  return pollFor(`run ${runId} of ${exportId} to end (in GET /api/exports/${exportId}/runs)`, timeoutMs, async () => {
    const res = await api.get(`/api/exports/${encodeURIComponent(exportId)}/runs`);
    expect(res.status, `GET runs of ${exportId}: ${JSON.stringify(res.body)}`).toBe(200);
    const run = (res.body as { runs: RunRecord[] }).runs.find((r) => r.runId === runId);
    return run !== undefined && run.status !== 'running' ? run : undefined;
  });
}

/** Polls GET /api/exports until the export is no longer running or queued. */
export function waitNotRunning(api: Api, exportId: string, timeoutMs = 10_000): Promise<true> {
  return pollFor(`${exportId} to be neither running nor queued (GET /api/exports)`, timeoutMs, async () => {
    const res = await api.get('/api/exports');
    const exp = (res.body as { exports?: { id: string; running: boolean }[] }).exports?.find((e) => e.id === exportId);
    return exp?.running === false ? true : undefined;
  });
}
