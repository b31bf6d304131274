/** The warning a run report carries when the personal access token it signed in with is about to expire. */
import type { SignedIn, TableauAuthConfig } from './tableau-auth.js';

/** PATs about to expire get a warning in every run report this many days ahead. */
const PAT_EXPIRY_WARNING_DAYS = 14;

/** `177:05:38` (days:hh:mm) → days, or undefined when absent or in another form. */
export function parsePatDaysLeft(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):(\d{1,2}):(\d{1,2})$/.exec(value.trim());
  return m === null ? undefined : Number(m[1]);
}

/**
 * One warning when `auth` is a PAT that the sign-in reported as expiring within {@link PAT_EXPIRY_WARNING_DAYS}
 * days; none otherwise (other sign-in methods, no or unreadable expiry).
 */
export function patExpiryWarnings(auth: TableauAuthConfig, session: SignedIn): string[] {
  if (auth.type !== 'pat') return [];
  const days = parsePatDaysLeft(session.estimatedTimeToExpiration);
  if (days === undefined || days >= PAT_EXPIRY_WARNING_DAYS) return [];
  return [
    `personal access token '${auth.tokenName}' expires in about ${days} day(s); create a new one and update the secret before then`,
  ];
}
