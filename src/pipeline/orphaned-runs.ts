/**
 * Runs killed outright (kill -9, power loss) cannot clean up after themselves. Each run's temp folder carries an
 * owner file (host, pid, run id); before a new run, folders whose owner process is gone are removed and their runs,
 * if still recorded as running, are marked interrupted. Folders of other hosts (a shared stateDir) are only
 * removed once they are a day old, since their processes cannot be checked from here.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { PRIVATE_FILE_MODE } from '../shared/private-files.js';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import type { RunStore } from '../contracts/run-store.js';
import { processAlive } from '../shared/process-alive.js';

const OWNER_FILE = 'owner.json';
const FOREIGN_MAX_AGE_MS = 24 * 3600_000;

const ownerSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  instance: z.string().optional(),
  runId: z.string(),
});

/**
 * Identifies this process beyond its pid: in a container the tool is pid 1 after every restart, with the same host
 * name, so pid and host alone would take a dead run's folder for a live one.
 */
const INSTANCE = randomUUID();

/** Marks a run temp folder as belonging to this process. */
export async function writeRunOwner(runTemp: string, runId: string): Promise<void> {
  await writeFile(
    join(runTemp, OWNER_FILE),
    JSON.stringify({ host: hostname(), pid: process.pid, instance: INSTANCE, runId }),
    { mode: PRIVATE_FILE_MODE },
  );
}

/** Whether the owner of a folder on this host still runs: our own pid counts only when it is this very process. */
function ownerAlive(owner: z.infer<typeof ownerSchema>): boolean {
  if (owner.pid === process.pid) return owner.instance === INSTANCE;
  return processAlive(owner.pid);
}

/** Removes temp folders of dead runs under `tempDir` and marks those runs interrupted. Never throws. */
export async function sweepOrphanedRuns(
  tempDir: string,
  deps: { store?: RunStore | undefined; logger: Logger; now: Date },
): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(tempDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const here = hostname();
  for (const entry of entries) {
    const dir = join(tempDir, entry);
    try {
      const info = await stat(dir);
      if (!info.isDirectory()) continue;
      const owner = ownerSchema.safeParse(
        JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => 'null')),
      );
      const age = deps.now.getTime() - info.mtimeMs;
      const dead = owner.success
        ? owner.data.host === here
          ? !ownerAlive(owner.data)
          : age > FOREIGN_MAX_AGE_MS
        : age > FOREIGN_MAX_AGE_MS;
      if (!dead) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(entry);
      if (owner.success && deps.store !== undefined) {
        await deps.store.markInterrupted('the process running it stopped before the run finished (killed or crashed)', {
          runIds: [owner.data.runId],
        });
      }
      deps.logger.warn(
        { folder: entry, runId: owner.success ? owner.data.runId : undefined },
        'removed temp files of a run whose process is gone',
      );
    } catch (err) {
      deps.logger.debug(
        { folder: entry, err: err instanceof Error ? err.message : String(err) },
        'could not check a temp folder',
      );
    }
  }
  return removed;
}
