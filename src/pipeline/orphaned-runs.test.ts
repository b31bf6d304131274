import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../shared/logger.js';
import type { RunStore } from '../contracts/run-store.js';
import { sweepOrphanedRuns, writeRunOwner } from './orphaned-runs.js';

function recordingStore(): { store: RunStore; interrupted: string[] } {
  const interrupted: string[] = [];
  const store = {
    markInterrupted: async (_message: string, filter?: { runIds?: readonly string[] }) => {
      interrupted.push(...(filter?.runIds ?? ['<all>']));
      return filter?.runIds?.length ?? 0;
    },
  } as unknown as RunStore;
  return { store, interrupted };
}

async function folder(root: string, name: string, owner: object | undefined): Promise<void> {
  await mkdir(join(root, name));
  await writeFile(join(root, name, 'data.csv'), 'x');
  if (owner !== undefined) await writeFile(join(root, name, 'owner.json'), JSON.stringify(owner));
}

describe('sweepOrphanedRuns', () => {
  it('removes folders of dead runs (dead pid, or our pid from an earlier process) and marks those runs interrupted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tee-orphans-'));
    const deadPid = spawnSync(process.execPath, ['-e', 'process.pid']).pid ?? 999_999;
    await folder(root, 'dead', { host: hostname(), pid: deadPid, runId: 'run-dead' });
    // A container restart: the tool is pid 1 again (here: our own pid), but another process instance wrote the file.
    await folder(root, 'restarted', {
      host: hostname(),
      pid: process.pid,
      instance: 'an-earlier-process',
      runId: 'run-restarted',
    });
    await mkdir(join(root, 'alive'));
    await writeRunOwner(join(root, 'alive'), 'run-alive');
    await folder(root, 'other-host', { host: 'another-machine', pid: 1, runId: 'run-elsewhere' });
    await folder(root, 'no-owner', undefined);

    const { store, interrupted } = recordingStore();
    const removed = await sweepOrphanedRuns(root, { store, logger: createSilentLogger(), now: new Date() });
    expect(removed.sort()).toEqual(['dead', 'restarted']);
    expect(interrupted.sort()).toEqual(['run-dead', 'run-restarted']);
    expect((await readdir(root)).sort()).toEqual(['alive', 'no-owner', 'other-host']);

    // A day later, folders of other hosts and folders without an owner are removed too.
    const later = await sweepOrphanedRuns(root, {
      store,
      logger: createSilentLogger(),
      now: new Date(Date.now() + 25 * 3600_000),
    });
    expect(later.sort()).toEqual(['no-owner', 'other-host']);
    expect(await readdir(root)).toEqual(['alive']);
  });

  it('does nothing when the temp folder does not exist yet', async () => {
    expect(
      await sweepOrphanedRuns(join(tmpdir(), 'tee-no-such-folder'), { logger: createSilentLogger(), now: new Date() }),
    ).toEqual([]);
  });
});
