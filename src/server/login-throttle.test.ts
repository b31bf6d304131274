import { describe, expect, it } from 'vitest';
import { createLoginThrottle } from './login-throttle.js';

function clockAt(start = Date.parse('2026-06-01T10:00:00Z')) {
  let t = start;
  return { clock: { now: () => new Date(t) }, advance: (ms: number) => (t += ms) };
}

describe('createLoginThrottle', () => {
  it('blocks an address after 10 failures within a minute, then for twice as long each time, up to the cap', () => {
    const { clock, advance } = clockAt();
    const throttle = createLoginThrottle({ clock, limit: 10, windowMs: 60_000, maxBlockMs: 300_000 });
    const blockAfterTen = (): number | undefined => {
      for (let i = 1; i < 10; i++) {
        expect(throttle.failed('10.0.0.1')).toBeUndefined();
        advance(1_000);
      }
      return throttle.failed('10.0.0.1')?.blockedMs;
    };
    expect(throttle.blockedFor('10.0.0.1')).toBeUndefined();
    expect(blockAfterTen()).toBe(60_000);
    expect(throttle.blockedFor('10.0.0.1')).toBe(60);
    advance(59_500);
    expect(throttle.blockedFor('10.0.0.1')).toBe(1);
    advance(500);
    expect(throttle.blockedFor('10.0.0.1')).toBeUndefined();
    expect(blockAfterTen()).toBe(120_000);
    advance(120_000);
    expect(blockAfterTen()).toBe(240_000);
    advance(240_000);
    expect(blockAfterTen()).toBe(300_000); // the cap
    expect(throttle.blockedFor('10.0.0.1')).toBe(300);
  });

  it('counts failures within the window only', () => {
    const { clock, advance } = clockAt();
    const throttle = createLoginThrottle({ clock });
    for (let i = 0; i < 30; i++) {
      expect(throttle.failed('10.0.0.1')).toBeUndefined();
      advance(7_000); // 9 failures in any minute
    }
    expect(throttle.blockedFor('10.0.0.1')).toBeUndefined();
  });

  it("keeps addresses apart: one address's block or success does nothing to another", () => {
    const { clock } = clockAt();
    const throttle = createLoginThrottle({ clock });
    for (let i = 0; i < 9; i++) throttle.failed('10.0.0.2');
    for (let i = 0; i < 10; i++) throttle.failed('10.0.0.1');
    expect(throttle.blockedFor('10.0.0.1')).toBe(60);
    expect(throttle.blockedFor('10.0.0.2')).toBeUndefined();
    // The tenth failure of the other address still blocks it.
    expect(throttle.failed('10.0.0.2')?.failures).toBe(10);
    expect(throttle.blockedFor('10.0.0.2')).toBe(60);
  });

  it('forgets an address quiet for the longest block, and tracks a bounded number of addresses', () => {
    const { clock, advance } = clockAt();
    const throttle = createLoginThrottle({ clock, maxBlockMs: 900_000, maxAddresses: 100 });
    for (let i = 0; i < 10; i++) throttle.failed('10.0.0.1');
    advance(900_000);
    expect(throttle.blockedFor('10.0.0.1')).toBeUndefined();
    expect(throttle.size()).toBe(0);
    // Back to the first block's length: the strikes are forgotten too.
    for (let i = 0; i < 9; i++) throttle.failed('10.0.0.1');
    expect(throttle.failed('10.0.0.1')?.blockedMs).toBe(60_000);

    for (let i = 0; i < 1_000; i++) throttle.failed(`192.0.2.${i}`);
    expect(throttle.size()).toBe(100);
    // The stalest went first: the blocked address of before was touched least recently.
    expect(throttle.blockedFor('10.0.0.1')).toBeUndefined();
    expect(throttle.blockedFor('192.0.2.999')).toBeUndefined();
    for (let i = 0; i < 9; i++) throttle.failed('192.0.2.999');
    expect(throttle.blockedFor('192.0.2.999')).toBe(60);
  });
});
