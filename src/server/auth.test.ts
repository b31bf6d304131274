import { describe, expect, it } from 'vitest';
import { checkAdminTokens, createAuthenticator, estimateTokenEntropyBits, tokenWeakness } from './auth.js';

const HEX32 = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'; // openssl rand -hex 32
const HEX16 = '5e884898da28047151d0e56f8dc62927'; // openssl rand -hex 16: exactly 128 bits
const B64 = 'q3Jm0Zt+8kQ2vN/xL9pR4wYb1sE7uHcA'; // openssl rand -base64 24

describe('estimateTokenEntropyBits', () => {
  it.each([
    ['hex (openssl rand -hex 16)', HEX16, 128],
    ['hex (openssl rand -hex 32)', HEX32, 256],
    ['upper-case hex', HEX16.toUpperCase(), 128],
    ['base64 of 24 bytes', B64, 32 * Math.log2(94)],
    ['lower case and digits', 'xyz123', 6 * Math.log2(36)],
    ['lower case only', 'abcdefgh', 8 * Math.log2(26)],
    ['empty', '', 0],
  ])('%s', (_name, token, bits) => {
    expect(estimateTokenEntropyBits(token)).toBeCloseTo(bits, 6);
  });
});

describe('tokenWeakness', () => {
  it.each([
    ['a random hex token of 128 bits', HEX16, undefined],
    ['a random base64 token', B64, undefined],
    ['a leading space', ` ${HEX32}`, /contains whitespace/],
    ['a trailing newline', `${HEX32}\n`, /contains whitespace/],
    ['a space inside', `${HEX16} ${HEX16}`, /contains whitespace/],
    ['a short token', 'Ab1!Ab1!', /shorter than 16/],
    ['one character repeated', 'a'.repeat(64), /one character repeated/],
    ['one digit repeated', '0'.repeat(40), /one character repeated/],
    ['a short sequence repeated', 'ab'.repeat(40), /sequence of 2 characters repeated/],
    ['a word repeated', 'Secret1!'.repeat(6), /sequence of 8 characters repeated/],
    ['31 hex digits (124 bits)', HEX16.slice(1), /about 124 bits of entropy, below the minimum of 128/],
    ['a long lower-case word', 'correcthorsebatterys', /about 94 bits/],
  ])('%s', (_name, token, expected) => {
    const weakness = tokenWeakness(token, 128);
    if (expected === undefined) expect(weakness).toBeUndefined();
    else expect(weakness).toMatch(expected);
  });

  it('follows the configured minimum', () => {
    expect(tokenWeakness(HEX16, 129)).toMatch(/128 bits of entropy, below the minimum of 129/);
    expect(tokenWeakness('correcthorsebatterys', 64)).toBeUndefined();
  });
});

describe('checkAdminTokens', () => {
  it('names the token, never its value', () => {
    const cases: [{ name: string; token: string }[], RegExp][] = [
      [[{ name: 'alice', token: `${HEX32} ` }], /the admin token of 'alice' contains whitespace/],
      [[{ name: 'ci', token: 'x'.repeat(32) }], /the admin token of 'ci' is one character repeated/],
      [
        [
          { name: 'alice', token: HEX32 },
          { name: 'bob', token: HEX32 },
        ],
        /the admin tokens of 'alice' and 'bob' are the same value/,
      ],
      [[{ name: 'ops', token: 'abcdefghijklmnopqrstu' }], /'ops' is too weak: about 98 bits/],
    ];
    for (const [tokens, message] of cases) {
      let thrown: unknown;
      try {
        checkAdminTokens(tokens);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Error);
      const text = `${(thrown as Error).message} ${String((thrown as { hint?: string }).hint)}`;
      expect(text).toMatch(message);
      for (const t of tokens) expect(text).not.toContain(t.token.trim());
    }
  });

  it('accepts distinct strong tokens, and the authenticator tells them apart', () => {
    const tokens = [
      { name: 'alice', token: HEX32 },
      { name: 'bob', token: B64 },
    ];
    expect(() => checkAdminTokens(tokens)).not.toThrow();
    const authenticate = createAuthenticator(tokens);
    expect(authenticate(`Bearer ${B64}`)).toBe('bob');
    expect(authenticate(`Bearer ${HEX32}`)).toBe('alice');
    expect(authenticate(`Bearer ${HEX16}`)).toBeUndefined();
  });
});
