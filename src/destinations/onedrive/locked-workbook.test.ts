import { describe, expect, it } from 'vitest';
import type { DeliveryContext } from '../../contracts/ports.js';
import { createSilentLogger } from '../../shared/logger.js';
import type { DriveItem } from './drive-item.js';
import { planDriveTarget } from './drive-target.js';
import { GraphRequestError } from './graph-errors.js';
import { uploadWaitingOutLock, type LockPolicy } from './locked-workbook.js';

const plan = planDriveTarget({ driveId: 'b!x' }, 'Reports/Sales.xlsx');
const retry = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 1_000, maxTotalMs: 60_000 };

function locked(retryAfterMs?: number): GraphRequestError {
  return new GraphRequestError('ONEDRIVE_LOCKED', 'locked', {
    status: 423,
    graphCodes: ['resourceLocked'],
    retryAfterMs,
    requestId: 'r',
    clientRequestId: undefined,
  });
}

/** An upload answering 423 for the first `lockedFor` calls, then the item; a clock moved by the sleeps. */
function scenario(lockedFor: number, retryAfterMs?: number) {
  let now = 0;
  const names: string[] = [];
  const sleeps: number[] = [];
  const upload = (name: string): Promise<DriveItem> => {
    names.push(name);
    return names.length <= lockedFor ? Promise.reject(locked(retryAfterMs)) : Promise.resolve({ id: 'ITEM', name });
  };
  const deps = {
    clock: { now: () => new Date(now) },
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
    retry,
  };
  const ctx: DeliveryContext = {
    logger: createSilentLogger(),
    signal: new AbortController().signal,
    runStartedAt: new Date('2026-11-27T05:00:00Z'),
    timezone: 'Europe/Paris',
  };
  const run = (policy: LockPolicy) => uploadWaitingOutLock(upload, plan, policy, ctx, deps);
  return { names, sleeps, run };
}

describe('uploadWaitingOutLock', () => {
  it('waits out a short lock, sleeping Retry-After at most until retryFor runs out', async () => {
    const s = scenario(2, 4_000);
    const result = await s.run({ retryForMs: 10_000, then: 'fail' });
    expect(result).toEqual({ item: { id: 'ITEM', name: 'Sales.xlsx' }, deliveredName: 'Sales.xlsx', warnings: [] });
    expect(s.sleeps).toEqual([4_000, 4_000]);
  });

  it('fails with a retryable ONEDRIVE_LOCKED once retryFor has passed', async () => {
    const s = scenario(99, 4_000);
    await expect(s.run({ retryForMs: 10_000, then: 'fail' })).rejects.toMatchObject({
      code: 'ONEDRIVE_LOCKED',
      retryable: true,
      message: expect.stringContaining("'Reports/Sales.xlsx' on drive b!x is locked") as unknown,
    });
    expect(s.sleeps).toEqual([4_000, 4_000, 2_000]);
  });

  it('writes side by side once retryFor has passed, saying so in a warning', async () => {
    const s = scenario(4, 4_000);
    const result = await s.run({ retryForMs: 10_000, then: 'side-by-side' });
    expect(result.deliveredName).toBe('Sales (refreshed 2026-11-27 0600).xlsx');
    expect(s.names.at(-1)).toBe('Sales (refreshed 2026-11-27 0600).xlsx');
    expect(result.warnings).toEqual([
      "'Reports/Sales.xlsx' was locked (open in Excel) for 10 s; wrote 'Sales (refreshed 2026-11-27 0600).xlsx' next to it instead",
    ]);
  });
});
