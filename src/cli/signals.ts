/** Process signals for the long-running commands (serve, worker). */
import type { Logger } from '../shared/logger.js';

/** Resolves with the signal's name when SIGTERM or SIGINT arrives. */
export function untilStopSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      logger.info({ signal: sig }, 'shutting down');
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
