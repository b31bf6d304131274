import { describe, expect, it } from 'vitest';
import { UsageError } from '../shared/errors.js';
import { adminTokenPolicyFromEnv, adminTokensFromEnv } from './admin-tokens.js';

const HEX = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const HEX2 = '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae';

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    adminTokensFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).userMessage;
  }
  return 'accepted';
}

describe('adminTokensFromEnv', () => {
  it('reads named tokens and the single one', () => {
    expect(adminTokensFromEnv({ ADMIN_TOKENS: `alice:${HEX}, bob:${HEX2}` })).toEqual([
      { name: 'alice', token: HEX },
      { name: 'bob', token: HEX2 },
    ]);
    expect(adminTokensFromEnv({ ADMIN_TOKEN: HEX })).toEqual([{ name: 'admin', token: HEX }]);
  });

  it.each([
    ['whitespace after a value', { ADMIN_TOKENS: `alice:${HEX} ,bob:${HEX2}` }, /token of 'alice' contains whitespace/],
    ['a trailing newline', { ADMIN_TOKEN: `${HEX}\n` }, /token of 'admin' contains whitespace/],
    ['one value twice', { ADMIN_TOKENS: `alice:${HEX}`, ADMIN_TOKEN: HEX }, /of 'alice' and 'admin' are the same/],
    ['a repeated character', { ADMIN_TOKEN: 'z'.repeat(40) }, /'admin' is one character repeated/],
    ['a weak value', { ADMIN_TOKENS: `ci:${HEX.slice(0, 24)}` }, /'ci' is too weak: about 96 bits.*openssl rand/],
    ['no token at all', {}, /set ADMIN_TOKEN/],
  ])('refuses %s, naming the token but never its value', (_name, env, message) => {
    const text = refusal(env);
    expect(text).toMatch(message);
    expect(text).not.toContain(HEX.slice(0, 24));
    expect(text).not.toContain('zzzz');
  });

  it('takes the minimum strength from ADMIN_TOKEN_MIN_ENTROPY', () => {
    const weak = { ADMIN_TOKEN: HEX.slice(0, 24) };
    expect(refusal({ ...weak, ADMIN_TOKEN_MIN_ENTROPY: '96' })).toBe('accepted');
    expect(refusal({ ...weak, ADMIN_TOKEN_MIN_ENTROPY: '97' })).toMatch(/about 96 bits .*minimum of 97/);
    expect(refusal({ ADMIN_TOKEN: HEX, ADMIN_TOKEN_MIN_ENTROPY: '257' })).toMatch(/about 256 bits/);
    expect(adminTokenPolicyFromEnv({})).toEqual({ minEntropyBits: 128 });
    expect(() => adminTokenPolicyFromEnv({ ADMIN_TOKEN_MIN_ENTROPY: 'lots' })).toThrow(
      /ADMIN_TOKEN_MIN_ENTROPY must be a whole number of bits/,
    );
    expect(() => adminTokenPolicyFromEnv({ ADMIN_TOKEN_MIN_ENTROPY: '-1' })).toThrow(UsageError);
  });
});
