/**
 * The one way a notification leaves the process: an HTTPS POST of JSON to the webhook URL, no redirects, no proxy.
 *
 * Unless `allowPrivate`, the target must be public at the moment of sending, not only when the config was read: the
 * URL is checked first (https, not localhost, not a non-public IP literal), then the host name is resolved once, in
 * the socket's own `lookup`, every address it resolves to is checked, and the socket connects to the address that
 * was checked. A name that answers a public address to a check and a private one to the connection (DNS rebinding)
 * has no second answer to give.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { loadCaBundle } from '../shared/ca-bundle.js';
import { AppError } from '../shared/errors.js';
import { nonPublicAddressKind, webhookUrlProblem } from '../shared/network-address.js';
import { isRetryableStatus } from '../shared/retry.js';

export interface WebhookTarget {
  /** Secret: the URL itself grants posting. Never in a message. */
  readonly url: string;
  readonly allowPrivate: boolean;
  /** Extra CA (PEM file) trusted besides the public roots (an internal chat server). */
  readonly caFile?: string | undefined;
}

/** Posts a JSON body; rejects with AppError `WEBHOOK_*` on a non-2xx answer, a refused target or a network error. */
export type WebhookPost = (target: WebhookTarget, body: unknown) => Promise<void>;

/** Resolves a host name to every address (the `dns.lookup` shape with `all: true`). */
export type ResolveHost = (host: string) => Promise<readonly LookupAddress[]>;

export interface HttpsWebhookPostOptions {
  /** Defaults to `dns.lookup(host, { all: true })`. */
  readonly resolve?: ResolveHost | undefined;
  /** Socket idle timeout (ms), default 10 000. */
  readonly timeoutMs?: number | undefined;
}

const systemResolve: ResolveHost = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => (err === null ? resolve(addresses) : reject(err)));
  });

class RefusedAddress extends Error {
  readonly code = 'EWEBHOOKREFUSED';
}

/** Creates the default {@link WebhookPost}. */
export function createHttpsWebhookPost(options: HttpsWebhookPostOptions = {}): WebhookPost {
  const resolveHost = options.resolve ?? systemResolve;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const caBundles = new Map<string, Promise<string[]>>();
  const caFor = (caFile: string): Promise<string[]> => {
    let bundle = caBundles.get(caFile);
    if (bundle === undefined) {
      bundle = loadCaBundle(caFile, {
        setting: 'notify.caFile',
        error: (message, o) => new AppError('WEBHOOK_CA_FILE', message, o),
      });
      caBundles.set(caFile, bundle);
      // A CA file that could not be read is read again next time (it may be fixed without a restart).
      bundle.catch(() => caBundles.delete(caFile));
    }
    return bundle;
  };

  return async (target, body) => {
    const problem = webhookUrlProblem(target.url, target.allowPrivate);
    if (problem !== undefined) throw new AppError('WEBHOOK_REFUSED', `the webhook URL ${problem}`);
    const ca = target.caFile === undefined ? undefined : await caFor(target.caFile);
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    const url = new URL(target.url);
    const lookup = guardedLookup(resolveHost, target.allowPrivate);
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          protocol: 'https:',
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port === '' ? 443 : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length },
          // A fresh connection each time: a pooled socket would skip the lookup, and with it the address check.
          agent: false,
          timeout: timeoutMs,
          ...(ca === undefined ? {} : { ca }),
          lookup,
        },
        (res) => {
          // The answer's body is not ours to keep (Slack says "ok", Teams nothing): drain it.
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    }).catch((err: unknown) => {
      throw toWebhookError(err);
    });
    if (status < 200 || status >= 300) {
      throw new AppError('WEBHOOK_HTTP', `the webhook answered HTTP ${status}`, {
        retryable: isRetryableStatus(status),
        details: { status },
      });
    }
  };
}

/**
 * A socket `lookup` that resolves once, refuses (unless `allowPrivate`) when any address is not public, and hands the
 * socket the addresses it checked.
 */
function guardedLookup(resolveHost: ResolveHost, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname)
      .then((addresses) => {
        const bad = allowPrivate ? undefined : addresses.find((a) => nonPublicAddressKind(a.address) !== undefined);
        if (bad !== undefined) {
          const kind = nonPublicAddressKind(bad.address) ?? 'private';
          throw new RefusedAddress(
            `the webhook host resolves to a ${kind} address (${bad.address}); set notify.allowPrivate: true if it is an internal chat server`,
          );
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = addresses.filter((a) => wanted === undefined || a.family === wanted);
        const first = usable[0];
        if (first === undefined) throw Object.assign(new Error(`no address for the host`), { code: 'ENOTFOUND' });
        if (options.all === true)
          callback(
            null,
            usable.map((a) => ({ address: a.address, family: a.family })),
          );
        else callback(null, first.address, first.family);
      })
      .catch((err: unknown) => callback(err as NodeJS.ErrnoException, '', 0));
  };
}

function toWebhookError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof RefusedAddress) return new AppError('WEBHOOK_REFUSED', err.message);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'network error';
  // Certificate problems will not heal by themselves; resets, timeouts and DNS hiccups may.
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
  return new AppError(
    'WEBHOOK_UNREACHABLE',
    `the webhook could not be reached (${code})${tls ? '; its certificate is not trusted: set notify.caFile to its CA' : ''}`,
    { retryable: !tls },
  );
}
