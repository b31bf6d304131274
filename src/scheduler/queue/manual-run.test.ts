/**
 * "Sync now" in queue mode when Redis goes away between queuing the run and recording it: the caller still gets the
 * run id (the run will happen), so it does not retry and start a second run (found by the soak, `npm run soak`).
 */
import type { Queue } from 'bullmq';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RunStore } from '../../contracts/run-store.js';
import { defaultRunJobSettings } from './queue-contract.js';
import { enqueueManualRun } from './manual-run.js';

const queued: string[] = [];
/** A queue that accepts every job (no run of the export queued yet). */
const queue = {
  add: async (_name: string, _data: unknown, opts: { jobId?: string }) => {
    queued.push(opts.jobId ?? '');
    return { id: opts.jobId };
  },
} as unknown as Queue;

const deps = (store: Pick<RunStore, 'insertRun'>) => ({
  runJobs: defaultRunJobSettings,
  store: store as RunStore,
  logger: pino({ level: 'silent' }),
  now: () => new Date('2026-12-02T06:08:11Z'),
});

describe('enqueueManualRun', () => {
  it('answers the run id of a queued run whose running record could not be written', async () => {
    const result = await enqueueManualRun(
      queue,
      'soak-17',
      'admin',
      deps({ insertRun: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) }),
    );
    expect(result).toEqual({ runId: queued.at(-1) });
    expect(queued.at(-1)).toMatch(/^soak-17@manual-/);
  });

  it('rejects when the run could not be queued at all', async () => {
    const down = {
      add: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
    } as unknown as Queue;
    await expect(
      enqueueManualRun(down, 'soak-17', 'admin', deps({ insertRun: () => Promise.resolve() })),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
