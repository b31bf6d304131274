import { describe, expect, it } from 'vitest';
import { describeRedisUrl, redisUrlPasswordPlace, redisUrlPasswords } from './redis-url.js';

describe('redisUrlPasswordPlace', () => {
  it.each([
    ['redis://redis:6379/0', undefined],
    ['rediss://cache.internal:6380', undefined],
    ['redis://redis:6379/0?db=2&family=6', undefined],
    ['redis://default@redis:6379', undefined],
    ['redis://:hunter2@redis:6379/0', 'in the user info, redis://:password@host'],
    ['redis://default:hunter2@redis:6379/0', 'in the user info, redis://:password@host'],
    ['redis://redis:6379/0?password=hunter2', 'in the query string, ?password='],
    ['redis://redis:6379/0?db=1&PASSWORD=hunter2', 'in the query string, ?PASSWORD='],
    ['redis://redis:6379?sentinelPassword=hunter2', 'in the query string, ?sentinelPassword='],
    ['not a url ?password=hunter2', 'in the query string, ?password='],
  ])('%s → %s', (url, expected) => {
    expect(redisUrlPasswordPlace(url)).toBe(expected);
  });
});

describe('redisUrlPasswords and describeRedisUrl', () => {
  it('finds the passwords of both places, raw and decoded, and describes the URL without them', () => {
    const url = 'rediss://app:p%40ss@cache.internal:6380/2?password=q-secret&sentinelPassword=s-secret&db=2';
    expect(redisUrlPasswords(url).sort()).toEqual(['p%40ss', 'p@ss', 'q-secret', 's-secret']);
    expect(describeRedisUrl(url)).toBe('rediss://cache.internal:6380/2');
    expect(redisUrlPasswords('redis://redis:6379/0')).toEqual([]);
    expect(redisUrlPasswords('::not a url')).toEqual([]);
  });
});
