/** `tableau-export worker`: queue mode only — takes export runs from Redis (BullMQ) until SIGTERM. */
import { loadConfig } from '../../config/load.js';
import { UsageError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { runWorker } from './queue-mode.js';

export async function workerCommand(
  file: string,
  options: { logger: Logger; redactor: Redactor; env?: NodeJS.ProcessEnv },
): Promise<number> {
  const loaded = await loadConfig(file);
  if (loaded.config.queue === undefined) {
    throw new UsageError(
      `"worker" needs a "queue:" section in ${loaded.file} (redis URL); without it, "serve" runs exports in-process`,
    );
  }
  return runWorker(loaded, { ...options, env: options.env ?? process.env });
}
