/**
 * Redis connections for queue mode. BullMQ 6 no longer brings a Redis client of its own and, in ESM, cannot load one
 * from options, so we construct ioredis clients here and hand BullMQ the instances.
 */
import { Redis } from 'ioredis';
import { ConfigError } from '../../shared/errors.js';
import { describeRedisUrl } from '../../shared/redis-url.js';

export { describeRedisUrl };

export type RedisConnectionRole =
  /** Workers: BullMQ's blocking commands need `maxRetriesPerRequest: null` (wait through reconnects). */
  | 'worker'
  /** Producers and readers (admin API, metrics, run store): fail a command after a few retries instead of hanging a request. */
  | 'client';

/**
 * Opens an ioredis client for `url` (`redis://[:password@]host:port[/db]` or `rediss://` for TLS). Connects lazily;
 * errors are emitted as 'error' events, which are logged through `onError` (without the URL, which may hold a
 * password) so an unreachable Redis never crashes the process.
 */
export function createRedisConnection(url: string, role: RedisConnectionRole, onError: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    connectionName: `tableau-export-${role}`,
    // Keep reconnecting with a capped backoff: Redis restarts and failovers are expected in a fleet.
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  redis.on('error', onError);
  return redis;
}

/**
 * The Redis URL of the `queue` config: `redis`, or the env var named by `redisUrlEnv`. Throws ConfigError naming the
 * key to fix when neither gives a usable URL.
 */
export function resolveRedisUrl(
  queue: { readonly redis?: string | undefined; readonly redisUrlEnv?: string | undefined },
  env: NodeJS.ProcessEnv,
  file = 'config',
): string {
  const fromEnv = queue.redisUrlEnv === undefined ? undefined : env[queue.redisUrlEnv];
  const url = queue.redis ?? fromEnv;
  if (url === undefined || url === '') {
    const message =
      queue.redisUrlEnv === undefined
        ? 'set queue.redis (e.g. redis://redis:6379/0) or queue.redisUrlEnv'
        : `environment variable ${queue.redisUrlEnv} (queue.redisUrlEnv) is not set; set it to a URL like redis://redis:6379/0`;
    throw new ConfigError([{ file, line: undefined, path: 'queue', message }]);
  }
  if (!/^rediss?:\/\//.test(url)) {
    throw new ConfigError([
      {
        file,
        line: undefined,
        path: queue.redis === undefined ? 'queue.redisUrlEnv' : 'queue.redis',
        message: `'${describeRedisUrl(url)}' is not a redis:// or rediss:// URL`,
      },
    ]);
  }
  return url;
}
