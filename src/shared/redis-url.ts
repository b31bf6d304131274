/**
 * What may be said about a Redis URL without giving its password away. A password can sit in two places: the user
 * info (`redis://:pw@host`) and the query string (`?password=pw`, which ioredis reads as a connection option, as it
 * does `?sentinelPassword=`). The config file may hold neither; a URL from an environment variable may hold both.
 */

/** The URL without credentials or query, for logs and error messages. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable Redis URL)';
  }
}

/**
 * Where a Redis URL carries a password (`in the query string, ?password=`), or undefined when it carries none. Works
 * on text that does not parse as a URL too, and never echoes the password, so the answer can go into a message.
 */
export function redisUrlPasswordPlace(url: string): string | undefined {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  if (userinfo !== undefined && /:./.test(userinfo)) return 'in the user info, redis://:password@host';
  const query = /\?([^#]*)/.exec(url)?.[1];
  if (query === undefined) return undefined;
  const key = [...new URLSearchParams(query).keys()].find(isPasswordKey);
  return key === undefined ? undefined : `in the query string, ?${key}=`;
}

/**
 * Every password a Redis URL carries (user info and query options), raw and decoded, so the redactor can hide each
 * one wherever it shows up on its own, not only inside the whole URL.
 */
export function redisUrlPasswords(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const found = [u.password, safeDecode(u.password)];
  for (const [key, value] of u.searchParams) if (isPasswordKey(key)) found.push(value);
  return [...new Set(found.filter((p) => p !== ''))];
}

function isPasswordKey(key: string): boolean {
  return /password/i.test(key);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
