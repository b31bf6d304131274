import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedactor, DEFAULT_MAX_TRANSIENT_SECRETS, REDACTED } from './redact.js';

describe('createRedactor', () => {
  afterEach(() => vi.restoreAllMocks());

  it('replaces known secrets, raw and URL-encoded, longest first', () => {
    const r = createRedactor(['pat-secret-1', 'pat-secret-1/extra part']);
    expect(r.redact('a pat-secret-1/extra part b')).toBe(`a ${REDACTED} b`);
    expect(r.redact(`x=${encodeURIComponent('pat-secret-1/extra part')}`)).not.toContain('extra');
    expect(r.redact('abc')).toBe('abc');
  });

  it('keeps plain addSecret values for good (backward compatible), however many transient ones follow', () => {
    const r = createRedactor([], { maxTransientSecrets: 3 });
    r.addSecret('env-secret-value');
    for (let i = 0; i < 10; i++) r.addSecret(`session-token-${i}`, { transient: true });
    expect(r.redact('env-secret-value')).toBe(REDACTED);
  });

  it('keeps only the most recent transient secrets (FIFO), so a long-running serve does not grow without bound', () => {
    const r = createRedactor([], { maxTransientSecrets: 3 });
    for (let i = 0; i < 5; i++) r.addSecret(`sessiontok${i}`, { transient: true });
    // The two oldest are dropped; the three newest are still replaced.
    expect(r.redact('sessiontok0 sessiontok1')).toBe('sessiontok0 sessiontok1');
    expect(r.redact('sessiontok2 sessiontok3 sessiontok4')).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`);
  });

  it('makes a transient secret seen again the newest (a cached Graph token stays known while in use)', () => {
    const r = createRedactor([], { maxTransientSecrets: 2 });
    r.addSecret('cached-token', { transient: true });
    r.addSecret('upload-url-1', { transient: true });
    r.addSecret('cached-token', { transient: true });
    r.addSecret('upload-url-2', { transient: true });
    expect(r.redact('cached-token')).toBe(REDACTED);
    expect(r.redact('upload-url-1')).toBe('upload-url-1');
  });

  it('never evicts a secret that is also permanent', () => {
    const r = createRedactor(['shared-secret-x'], { maxTransientSecrets: 1 });
    r.addSecret('shared-secret-x', { transient: true });
    r.addSecret('other-token-1', { transient: true });
    r.addSecret('other-token-2', { transient: true });
    expect(r.redact('shared-secret-x')).toBe(REDACTED);
  });

  it('bounds the default transient list at 500', () => {
    const r = createRedactor();
    for (let i = 0; i <= DEFAULT_MAX_TRANSIENT_SECRETS; i++)
      r.addSecret(`tok-${String(i).padStart(4, '0')}`, { transient: true });
    expect(r.redact('tok-0000')).toBe('tok-0000');
    expect(r.redact('tok-0001')).toBe(REDACTED);
    expect(r.redact(`tok-${String(DEFAULT_MAX_TRANSIENT_SECRETS).padStart(4, '0')}`)).toBe(REDACTED);
  });

  it('sorts the secrets once per change, not on every redact call', () => {
    const r = createRedactor(['alpha-secret', 'beta-secret-longer']);
    r.addSecret('gamma-token', { transient: true });
    r.redact('warm up');
    const sort = vi.spyOn(Array.prototype, 'sort');
    for (let i = 0; i < 50; i++) r.redact(`line ${i} alpha-secret`);
    expect(sort).not.toHaveBeenCalled();
    r.addSecret('delta-token', { transient: true });
    expect(r.redact('delta-token and beta-secret-longer')).toBe(`${REDACTED} and ${REDACTED}`);
    expect(sort).toHaveBeenCalledTimes(1);
  });

  it('still catches credentials it never saw by pattern', () => {
    const r = createRedactor();
    expect(r.redact('Authorization: Bearer abc.def')).not.toContain('abc.def');
    expect(r.redact('https://x.sharepoint.com/_api/v2.0/drives/b/items/i/uploadSession?guid=1&tempauth=zzz')).toBe(
      `https://x.sharepoint.com/${REDACTED}`,
    );
  });
});
