/** Sessions of the Tableau simulator: what a sign-in token grants, until it expires, is signed out or replaced. */

export interface Session {
  readonly token: string;
  readonly siteId: string;
  readonly site: string;
  readonly user: string;
  readonly pat: string | undefined;
  readonly scopes: readonly string[] | undefined;
  expiresAt: number;
}

/** The sessions still live now; expired ones are dropped from `sessions` on the way. */
export function liveSessions(sessions: Map<string, Session>): Session[] {
  const now = Date.now();
  for (const [token, s] of sessions) if (s.expiresAt <= now) sessions.delete(token);
  return [...sessions.values()];
}

/** Whether the session may use `scope`: PAT and password sessions have no scopes and may do anything. */
export function hasScope(session: Session, scope: string): boolean {
  return session.scopes === undefined || session.scopes.includes(scope) || session.scopes.includes('tableau:*');
}
