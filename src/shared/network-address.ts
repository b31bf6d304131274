/**
 * Is an address on the public Internet? Used to keep webhooks (whose URLs come from the environment, and whose
 * hosts resolve at send time) from reaching loopback, link-local or private services — a cloud metadata endpoint at
 * 169.254.169.254, an admin port on 127.0.0.1 — unless the operator says the target is internal.
 *
 * IPv4-mapped (`::ffff:127.0.0.1`), IPv4-compatible, NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) IPv6 addresses are
 * judged by the IPv4 address they carry.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Why an address is not public. */
export type NonPublicKind = 'unspecified' | 'loopback' | 'private' | 'link-local' | 'multicast' | 'reserved';

/**
 * The kind of non-public address `ip` is (IPv4 or IPv6 text, brackets and zone allowed), or undefined when it is a
 * public address. Text that is not an IP address at all is undefined too: resolve a name first.
 */
export function nonPublicAddressKind(ip: string): NonPublicKind | undefined {
  const text = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(text)) return ipv4Kind(ipv4Octets(text));
  const groups = isIPv6(text) ? ipv6Groups(text) : undefined;
  return groups === undefined ? undefined : ipv6Kind(groups);
}

/** True when `host` names this machine without DNS: `localhost`, `*.localhost` (RFC 6761), with or without a final dot. */
export function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** True when `host` is an IP literal (with or without IPv6 brackets). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}

function ipv4Octets(text: string): [number, number, number, number] {
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return [a, b, c, d];
}

function ipv4Kind([a, b, c]: readonly [number, number, number, number]): NonPublicKind | undefined {
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT, shared address space
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return 'reserved';
  if (
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113)
  )
    return 'reserved';
  return undefined;
}

function ipv6Kind(g: readonly number[]): NonPublicKind | undefined {
  const at = (i: number): number => g[i] ?? 0;
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  const embedded = (hi: number, lo: number): NonPublicKind | undefined =>
    ipv4Kind([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && at(7) === 1) return 'loopback';
  if (zeroUpTo(5) && at(5) === 0xffff) return embedded(at(6), at(7)); // IPv4-mapped
  if (zeroUpTo(6)) return embedded(at(6), at(7)); // IPv4-compatible (deprecated)
  if (at(0) === 0x64 && at(1) === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(at(6), at(7));
  if (at(0) === 0x2002) return embedded(at(1), at(2)); // 6to4
  if ((at(0) & 0xffc0) === 0xfe80) return 'link-local';
  if ((at(0) & 0xfe00) === 0xfc00 || (at(0) & 0xffc0) === 0xfec0) return 'private'; // unique local, old site local
  if ((at(0) & 0xff00) === 0xff00) return 'multicast';
  if (at(0) === 0x2001 && at(1) === 0x0db8) return 'reserved'; // documentation
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address text (an embedded dotted quad and a zone are allowed). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = ipv4Octets(tail);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (h: string | undefined): string[] => (h === undefined || h === '' ? [] : h.split(':'));
  const head = split(halves[0]);
  const rest = split(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0) return undefined;
  const groups = [...head, ...Array.from({ length: fill }, () => '0'), ...rest];
  if (groups.length !== 8 || groups.some((x) => !/^[0-9a-f]{1,4}$/i.test(x))) return undefined;
  return groups.map((x) => parseInt(x, 16));
}

/**
 * What is wrong with a webhook URL before anything is sent, or undefined: not a URL, not https (the URL is a secret
 * and the message may name files and errors), or a host that is this machine or a non-public IP literal (unless
 * `allowPrivate`). Names that resolve to such addresses are caught at send time. Never quotes the URL.
 */
export function webhookUrlProblem(url: string, allowPrivate: boolean): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.protocol !== 'https:')
    return `is a${u.protocol === 'http:' ? 'n' : ''} ${u.protocol}// URL; webhooks must use https://`;
  if (allowPrivate) return undefined;
  const host = u.hostname;
  if (isLocalhostName(host))
    return 'points at localhost; set allowPrivate: true if the chat server runs on this machine';
  const kind = nonPublicAddressKind(host);
  if (kind !== undefined)
    return `points at a ${kind} address (${host}); set allowPrivate: true if it is an internal chat server`;
  return undefined;
}
