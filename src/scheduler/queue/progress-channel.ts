/**
 * Live progress across the fleet: workers publish each run's progress on a Redis pub/sub channel and keep the latest
 * one of every running run under a key of its own; every `serve` replica reads those keys when it starts (a run
 * already half-way shows at once) and then relays the channel to its admin server. Pub/sub loses nothing that
 * matters here: the next update of a run replaces the previous one, and the run history has the outcome anyway.
 *
 * Keys (under the queue prefix): `<prefix>:progress` (channel), `<prefix>:progress:<runId>` (latest update, expiring
 * after {@link PROGRESS_TTL_MS} without news so a run whose worker died leaves nothing behind).
 */
import type { Redis } from 'ioredis';
import { progressEventSchema, type ProgressEvent, type ProgressSink } from '../../contracts/run-progress.js';
import type { Logger } from '../../shared/logger.js';

/** Longest a run's latest update is kept without a newer one (a workbook locked in Excel can hold an upload for long). */
export const PROGRESS_TTL_MS = 6 * 3600_000;

const channelOf = (prefix: string): string => `${prefix}:progress`;
const keyOf = (prefix: string, runId: string): string => `${prefix}:progress:${runId}`;

/**
 * A sink that publishes on Redis (fire and forget: a run never waits for, or fails on, its progress). Redis errors
 * are logged once per outage, not once per update.
 */
export function createRedisProgressSink(redis: Redis, prefix: string, logger: Logger): ProgressSink {
  let failing = false;
  return {
    publish(event) {
      const json = JSON.stringify(event);
      const tx = redis.multi();
      if (event.kind === 'progress') tx.set(keyOf(prefix, event.run.runId), json, 'PX', PROGRESS_TTL_MS);
      else tx.del(keyOf(prefix, event.ended.runId));
      tx.publish(channelOf(prefix), json);
      tx.exec().then(
        () => {
          failing = false;
        },
        (err: unknown) => {
          if (failing) return;
          failing = true;
          logger.warn({ err }, 'live progress could not be published to Redis; the run goes on');
        },
      );
    },
  };
}

export interface ProgressRelay {
  close(): Promise<void>;
}

/**
 * Relays the fleet's progress into `sink`: first the latest update of every run in progress, then every event on the
 * channel. `subscriber` must be a connection of its own (a subscribed connection can issue no other command); it is
 * closed by `close()`. `reader` is borrowed. Events that do not parse are dropped (a newer or older version wrote them).
 */
export async function relayRedisProgress(deps: {
  subscriber: Redis;
  reader: Redis;
  prefix: string;
  sink: ProgressSink;
  logger: Logger;
}): Promise<ProgressRelay> {
  const { subscriber, reader, prefix, sink, logger } = deps;
  const deliver = (json: string): void => {
    const event = parseEvent(json);
    if (event !== undefined) sink.publish(event);
  };
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === channelOf(prefix)) deliver(message);
  });
  await subscriber.subscribe(channelOf(prefix));
  try {
    for (const json of await readLatest(reader, prefix)) deliver(json);
  } catch (err) {
    logger.warn({ err }, 'could not read the progress of runs already going; it shows with their next update');
  }
  return {
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}

async function readLatest(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyOf(prefix, '*')}`, 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values.filter((v): v is string => typeof v === 'string');
}

function parseEvent(json: string): ProgressEvent | undefined {
  try {
    const parsed = progressEventSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
