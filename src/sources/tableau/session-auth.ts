/**
 * The token of one Tableau session and its renewal: a call that fails with 401002 (session expired, or replaced by
 * another sign-in with the same PAT) signs in again once — one re-sign-in shared by every call that saw the same old
 * token — and is retried once with the fresh token.
 */
import type { Logger } from '../../shared/logger.js';
import type { SignedIn } from './tableau-auth.js';
import { isSessionExpired } from './tableau-errors.js';

/** Re-sign-ins allowed per session; past this, another process is probably fighting us for the same PAT. */
const MAX_REAUTHS_PER_SESSION = 3;

export type SignInWith = (signal: AbortSignal, logger: Logger) => Promise<SignedIn>;

export interface SessionAuth {
  /** The token in use now. */
  current(): SignedIn;
  /**
   * Runs `fn` with the current token; on 401002 signs in again (see the module comment) and runs it once more. A
   * second 401002, one after the re-sign-in budget is spent, or one after {@link SessionAuth.stop} is thrown as is.
   */
  withAuth<T>(fn: (s: SignedIn) => Promise<T>, logger: Logger, signal: AbortSignal): Promise<T>;
  /** Ends renewals; returns false if they had already ended (the session is closing or closed). */
  stop(): boolean;
  /** Resolves once a re-sign-in under way has finished, whatever its outcome. */
  settled(): Promise<void>;
}

/** Starts with the token of the first sign-in; `signInWith` signs in again. */
export function createSessionAuth(first: SignedIn, signInWith: SignInWith): SessionAuth {
  let current = first;
  let reauth: Promise<SignedIn> | undefined;
  let reauths = 0;
  let closed = false;

  const withAuth = async <T>(fn: (s: SignedIn) => Promise<T>, l: Logger, s: AbortSignal): Promise<T> => {
    const used = current;
    try {
      return await fn(used);
    } catch (err) {
      if (!isSessionExpired(err) || closed) throw err;
      if (current === used) {
        if (reauths >= MAX_REAUTHS_PER_SESSION) throw err;
        reauth ??= (async () => {
          reauths++;
          l.warn('Tableau session expired or was replaced (401002); signing in again');
          current = await signInWith(s, l);
          return current;
        })().finally(() => {
          reauth = undefined;
        });
        await reauth;
      }
      // One retry with the fresh token; a second 401002 is final.
      return await fn(current);
    }
  };

  return {
    current: () => current,
    withAuth,
    stop: () => {
      if (closed) return false;
      closed = true;
      return true;
    },
    settled: async () => {
      await reauth?.catch(() => undefined);
    },
  };
}
