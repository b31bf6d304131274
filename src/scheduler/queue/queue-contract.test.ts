import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors.js';
import {
  attemptRunId,
  attemptRunIds,
  enqueueRun,
  manualRunJobId,
  runQueueName,
  scheduledRunJobId,
  skippedRunId,
  toRunTrigger,
  type RunQueueLike,
} from './queue-contract.js';
import { effectiveSiteConcurrency } from './queue-scheduler.js';
import { describeRedisUrl, resolveRedisUrl } from './redis-connection.js';

describe('queue ids', () => {
  it('derives one run id per tick and per attempt', () => {
    expect(scheduledRunJobId('sales-nightly', 1735711200000)).toBe('sales-nightly@1735711200000');
    expect(manualRunJobId('sales', 'ab12cd34')).toBe('sales@manual-ab12cd34');
    expect(attemptRunId('sales@1', 1)).toBe('sales@1');
    expect(attemptRunId('sales@1', 2)).toBe('sales@1#2');
    expect(attemptRunIds('j', 3)).toEqual(['j', 'j#2', 'j#3']);
    expect(attemptRunIds('j', 0)).toEqual([]);
    expect(skippedRunId('sales@1')).toBe('sales@1~skipped');
  });

  it.each([
    ['', 'runs-default'],
    ['sales', 'runs-site-sales'],
    ['a:b c', 'runs-site-a_b_c'],
  ])('names the run queue of site %j %s (no ":" allowed by BullMQ)', (site, name) => {
    expect(runQueueName(site)).toBe(name);
  });

  it('maps job triggers back to the domain type', () => {
    expect(toRunTrigger({ kind: 'manual', by: 'ops' })).toEqual({ kind: 'manual', by: 'ops' });
    expect(toRunTrigger({ kind: 'schedule', scheduledFor: '2025-01-01T06:00:00.000Z' })).toEqual({
      kind: 'schedule',
      scheduledFor: '2025-01-01T06:00:00.000Z',
    });
    expect(toRunTrigger({ kind: 'cli' })).toEqual({ kind: 'cli' });
  });

  it('caps site concurrency by the sign-in sessions available', () => {
    expect(effectiveSiteConcurrency(4, undefined)).toBe(4);
    expect(effectiveSiteConcurrency(4, 1)).toBe(1);
    expect(effectiveSiteConcurrency(2, 5)).toBe(2);
  });
});

describe('enqueueRun', () => {
  it('adds with deduplication on the export id and reports the job it collided with', async () => {
    const calls: unknown[] = [];
    const queue = (returnedId: string): RunQueueLike => ({
      add: (name, data, opts) => {
        calls.push({ name, data, opts });
        return Promise.resolve({ id: returnedId });
      },
    });
    const data = { exportId: 'sales', trigger: { kind: 'manual' as const, by: 'ops' } };
    expect(
      await enqueueRun(queue('sales@manual-1'), 'sales@manual-1', data, { attempts: 3, retryDelayMs: 100 }),
    ).toEqual({ added: true });
    expect(await enqueueRun(queue('sales@other'), 'sales@manual-2', data, { attempts: 3, retryDelayMs: 100 })).toEqual({
      added: false,
      existingJobId: 'sales@other',
    });
    expect(calls[0]).toMatchObject({
      name: 'run',
      data,
      opts: {
        jobId: 'sales@manual-1',
        deduplication: { id: 'sales' },
        attempts: 3,
        backoff: { type: 'fixed', delay: 100 },
      },
    });
  });
});

describe('resolveRedisUrl', () => {
  it('takes queue.redis, or the env var named by redisUrlEnv', () => {
    expect(resolveRedisUrl({ redis: 'redis://r:6379/0' }, {})).toBe('redis://r:6379/0');
    expect(resolveRedisUrl({ redisUrlEnv: 'REDIS_URL' }, { REDIS_URL: 'rediss://:pw@r:6380' })).toBe(
      'rediss://:pw@r:6380',
    );
  });

  it('names the missing env var, and never echoes a password', () => {
    expect(() => resolveRedisUrl({ redisUrlEnv: 'QUEUE_REDIS' }, {})).toThrow(ConfigError);
    expect(() => resolveRedisUrl({ redisUrlEnv: 'QUEUE_REDIS' }, {})).toThrow(/QUEUE_REDIS/);
    expect(() => resolveRedisUrl({}, {})).toThrow(/queue\.redis/);
    expect(() => resolveRedisUrl({ redis: 'http://user:s3cret@r' }, {})).toThrow(/not a redis/);
    expect(() => resolveRedisUrl({ redis: 'http://user:s3cret@r' }, {})).not.toThrow(/s3cret/);
    expect(describeRedisUrl('redis://:s3cret@cache.internal:6379/2')).toBe('redis://cache.internal:6379/2');
  });
});
