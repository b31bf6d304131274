import { describe, expect, it } from 'vitest';
import { createKeyedMutex, createSemaphore } from './concurrency.js';

describe('createSemaphore', () => {
  it('admits at most `limit` holders, in FIFO order, and tolerates double release', async () => {
    const sem = createSemaphore(2);
    const order: string[] = [];
    const a = await sem.acquire();
    const b = await sem.acquire();
    const c = sem.acquire().then((r) => (order.push('c'), r));
    const d = sem.acquire().then((r) => (order.push('d'), r));
    expect(sem.active).toBe(2);
    expect(sem.waiting).toBe(2);
    a();
    a();
    const rc = await c;
    expect(order).toEqual(['c']);
    expect(sem.active).toBe(2);
    b();
    (await d)();
    rc();
    expect(sem.active).toBe(0);
  });

  it('rejects a waiter whose signal aborts and forgets it', async () => {
    const sem = createSemaphore(1);
    const held = await sem.acquire();
    const ac = new AbortController();
    const waiting = sem.acquire(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(sem.waiting).toBe(0);
    held();
    expect(sem.active).toBe(0);
  });
});

describe('createKeyedMutex', () => {
  it('serialises holders of one key but not of different keys', async () => {
    const mutex = createKeyedMutex();
    const a = await mutex.acquire('pat:a');
    const b = await mutex.acquire('pat:b');
    let secondA = false;
    const pending = mutex.acquire('pat:a').then((r) => {
      secondA = true;
      return r;
    });
    await Promise.resolve();
    expect(secondA).toBe(false);
    expect(mutex.isHeld('pat:a')).toBe(true);
    a();
    (await pending)();
    b();
    expect(secondA).toBe(true);
    expect(mutex.isHeld('pat:a') || mutex.isHeld('pat:b')).toBe(false);
  });
});
