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

export interface AddSecretOptions {
  /**
   * A per-session credential (Tableau session token, connected-app JWT, Graph access token, upload URL): kept only
   * among the most recent transient secrets, so a long-running `serve` does not accumulate every token it ever saw.
   * Default false: configured secrets (env vars) are kept for the life of the redactor.
   */
  readonly transient?: boolean;
}

export interface Redactor {
  /** Returns `text` with every known secret and credential-looking value replaced by [REDACTED]. */
  redact(text: string): string;
  /** Deep-copies a JSON-like value with every string redacted. */
  redactValue<T>(value: T): T;
  /** Adds a secret value learned at run time; ignores values shorter than 4. See AddSecretOptions.transient. */
  addSecret(value: string | undefined, options?: AddSecretOptions): void;
}

export interface RedactorOptions {
  /** How many transient secrets are kept, oldest dropped first (default 500). */
  readonly maxTransientSecrets?: number;
}

/** Default bound of the transient secrets: far more than the tokens alive at once, even with many concurrent runs. */
export const DEFAULT_MAX_TRANSIENT_SECRETS = 500;

/**
 * Creates a redactor that knows the given secret values (e.g. PAT secret, client secret, webhook URL) for good.
 * Secrets added later with `{ transient: true }` are kept in a bounded first-in-first-out list (re-adding one makes
 * it the newest), so memory and the cost of `redact` stay flat however long the process runs.
 */
export function createRedactor(secrets: Iterable<string | undefined> = [], options: RedactorOptions = {}): Redactor {
  const maxTransient = Math.max(1, options.maxTransientSecrets ?? DEFAULT_MAX_TRANSIENT_SECRETS);
  const permanent = new Set<string>();
  // Insertion order is age: the first key is the oldest. Values are the forms to replace (raw and URL-encoded).
  const transient = new Map<string, readonly string[]>();
  // Longest first, so a secret that contains another is replaced whole; rebuilt only after a change.
  let sorted: readonly string[] | undefined;

  // The secret may also appear URL-encoded (inside a URL or a form body).
  const formsOf = (value: string): readonly string[] => {
    const encoded = encodeURIComponent(value);
    return encoded === value ? [value] : [value, encoded];
  };

  const addSecret = (value: string | undefined, opts: AddSecretOptions = {}): void => {
    if (value === undefined || value.length < 4) return;
    if (opts.transient !== true) {
      const before = permanent.size;
      for (const form of formsOf(value)) permanent.add(form);
      if (transient.delete(value) || permanent.size !== before) sorted = undefined;
      return;
    }
    if (permanent.has(value)) return;
    if (transient.delete(value)) {
      // Seen again (e.g. a cached Graph token): make it the newest; the set of forms is unchanged.
      transient.set(value, formsOf(value));
      return;
    }
    transient.set(value, formsOf(value));
    for (const oldest of transient.keys()) {
      if (transient.size <= maxTransient) break;
      transient.delete(oldest);
    }
    sorted = undefined;
  };
  for (const s of secrets) addSecret(s);

  const knownSorted = (): readonly string[] => {
    if (sorted === undefined) {
      const all = new Set(permanent);
      for (const forms of transient.values()) for (const form of forms) all.add(form);
      sorted = [...all].sort((a, b) => b.length - a.length);
    }
    return sorted;
  };

  const redact = (text: string): string => {
    let out = text;
    for (const secret of knownSorted()) {
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
