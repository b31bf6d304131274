/**
 * One session per source for a run (one Tableau sign-in however many views), opened on first use and always closed:
 * `closeAll` signs out, never throws, and may be called more than once.
 */
import type { Source, SourceSession } from '../contracts/ports.js';
import type { Logger } from '../shared/logger.js';

export interface SourceSessions {
  sessionFor(source: Source): Promise<SourceSession>;
  closeAll(): Promise<void>;
}

export function createSourceSessions(ctx: { readonly logger: Logger; readonly signal: AbortSignal }): SourceSessions {
  const sessions = new Map<Source, Promise<SourceSession>>();
  return {
    sessionFor(source) {
      let session = sessions.get(source);
      if (session === undefined) {
        session = source.open(ctx);
        sessions.set(source, session);
      }
      return session;
    },
    async closeAll() {
      const open = [...sessions.values()];
      sessions.clear();
      for (const s of open) await s.then((session) => session.close()).catch(() => undefined);
    },
  };
}
