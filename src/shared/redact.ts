/**
 * Redaction of secrets in anything that may reach a log line, an error message, the run history or the dashboard.
 * Two layers: known secret values (read from env vars at start) are replaced wherever they appear, and patterns
 * catch credentials whose values we never saw (session tokens, bearer tokens, upload URLs, JWTs).
 */
export const REDACTED = '[REDACTED]';

const PATTERNS: readonly [RegExp, string][] = [
  // HTTP headers carrying credentials, in any casing, as "Name: value" or JSON "name":"value".
  [/(x-tableau-auth|authorization|cookie|set-cookie)("?\s*[:=]\s*"?)(bearer\s+)?[^\s",;}]+/gi, `$1$2$3${REDACTED}`],
  [/\bbearer\s+[A-Za-z0-9\-._~+/]+=*/gi, `Bearer ${REDACTED}`],
  // Query/form parameters and JSON/XML attributes that carry secrets.
  [
    /\b(token|access_token|refresh_token|client_secret|client_assertion|password|personalAccessTokenSecret|secret|jwt|tempauth|sig)(["']?\s*[=:]\s*["']?)[^\s"'&,<>}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // JWTs anywhere.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Upload session URLs embed a credential: keep scheme and host, drop path and query.
  [/(https?:\/\/[^\s/"']+)\/[^\s"']*(uploadSession|upload\.aspx|\/up\/)[^\s"']*/gi, `$1/${REDACTED}`],
];

export interface Redactor {
  /** Returns `text` with every known secret and credential-looking value replaced by [REDACTED]. */
  redact(text: string): string;
  /** Deep-copies a JSON-like value with every string redacted. */
  redactValue<T>(value: T): T;
  /** Adds secret values learned at run time (e.g. a Tableau session token); ignores values shorter than 4. */
  addSecret(value: string | undefined): void;
}

/** Creates a redactor that knows the given secret values (e.g. PAT secret, client secret, webhook URL). */
export function createRedactor(secrets: Iterable<string | undefined> = []): Redactor {
  const known = new Set<string>();
  const addSecret = (value: string | undefined): void => {
    if (value !== undefined && value.length >= 4) {
      known.add(value);
      // Also catch the secret after URL encoding (it may appear inside a URL or a form body).
      const encoded = encodeURIComponent(value);
      if (encoded !== value) known.add(encoded);
    }
  };
  for (const s of secrets) addSecret(s);

  const redact = (text: string): string => {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...known].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return out;
  };

  const redactValue = <T>(value: T): T => {
    if (typeof value === 'string') return redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => redactValue(v)) as T;
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = redactValue(v);
      return out as T;
    }
    return value;
  };

  return { redact, redactValue, addSecret };
}
