/**
 * The one HTTPS client of the OneDrive destination: node:https with an agent that trusts `caFile`.
 *
 * Why not Node's global fetch (which @microsoft/microsoft-graph-client uses by default)? It is undici, whose trust
 * store can only be changed through the undici package (not a dependency) or NODE_EXTRA_CA_CERTS (process-wide, read
 * at start). `caFile` must work per destination, for TLS-inspecting proxies and for the simulator, so every Graph
 * byte goes through this transport: the graph client gets it as its last middleware (see graph-api.ts) and the
 * upload-session loop calls it directly.
 */
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Middleware } from '@microsoft/microsoft-graph-client';
import { loadCaBundle } from '../../shared/ca-bundle.js';
import { DestinationError } from '../../shared/errors.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Idle-socket timeout; defaults to the transport's. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** A response whose body is still arriving: the caller must consume it or destroy it. */
export interface HttpStreamResponse {
  readonly status: number;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as it arrives; it errors when the connection drops, times out or `signal` aborts. */
  readonly body: IncomingMessage;
}

export interface HttpTransport {
  /** Sends one request; resolves for every HTTP status; rejects only without a response (network, abort). */
  request(req: HttpRequest): Promise<HttpResponse>;
  /**
   * Sends one bodiless request (a download) and resolves as soon as the status and headers arrive, with the body as
   * a stream, so a large download never sits in memory. Rejects only without a response (network, abort). Sends
   * only the headers given: nothing adds an Authorization header here.
   */
  stream(req: HttpRequest): Promise<HttpStreamResponse>;
  /** Loads the CA file; throws DestinationError `ONEDRIVE_CA_FILE` when it cannot be read or is not PEM. */
  prepare(): Promise<void>;
}

export interface HttpsTransportOptions {
  /** Extra CA (PEM) trusted in addition to the public roots. */
  readonly caFile?: string | undefined;
  readonly timeoutMs?: number;
  /**
   * Largest buffered answer (JSON of a Graph call) in bytes, default 16 MiB: a proxy or a broken server that sends
   * more is cut off rather than read into memory. Downloads go through `stream` and are capped by their caller.
   */
  readonly maxResponseBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Creates the transport. The CA file is read on first use; a missing file fails with a clear error then. */
export function createHttpsTransport(options: HttpsTransportOptions = {}): HttpTransport {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let agent: Promise<https.Agent> | undefined;
  const getAgent = (): Promise<https.Agent> => {
    agent ??= loadAgent(options.caFile);
    return agent;
  };

  const request = async (req: HttpRequest): Promise<HttpResponse> => {
    const httpsAgent = await getAgent();
    const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    const headers: Record<string, string> = { ...req.headers };
    if (body !== undefined) headers['content-length'] = String(body.length);
    else if (req.method === 'PUT' || req.method === 'POST') headers['content-length'] = '0';
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = https.request(
        req.url,
        { method: req.method, headers, agent: httpsAgent, signal: req.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let received = 0;
          res.on('data', (c: Buffer) => {
            received += c.length;
            if (received > maxResponseBytes) {
              res.destroy(
                Object.assign(
                  new Error(`the answer of ${req.method} is larger than ${maxResponseBytes} bytes; it was not read`),
                  { code: 'ERR_RESPONSE_TOO_LARGE' },
                ),
              );
              return;
            }
            chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      // ETIMEDOUT marks it as a transient network failure for the retry policy (see classifyTransportFailure).
      r.setTimeout(req.timeoutMs ?? timeoutMs, () =>
        r.destroy(
          Object.assign(new Error(`no response within ${req.timeoutMs ?? timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      r.on('error', reject);
      r.end(body);
    });
  };
  const stream = async (req: HttpRequest): Promise<HttpStreamResponse> => {
    const httpsAgent = await getAgent();
    const idleMs = req.timeoutMs ?? timeoutMs;
    return new Promise<HttpStreamResponse>((resolve, reject) => {
      const r = https.request(
        req.url,
        { method: req.method, headers: { ...req.headers }, agent: httpsAgent, signal: req.signal },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      // The idle timeout also covers the body: a download that stalls mid-way errors instead of hanging.
      r.setTimeout(idleMs, () =>
        r.destroy(Object.assign(new Error(`no data within ${idleMs} ms`), { code: 'ETIMEDOUT' })),
      );
      r.on('error', reject);
      r.end();
    });
  };
  return {
    request,
    stream,
    prepare: async () => {
      await getAgent();
    },
  };
}

async function loadAgent(caFile: string | undefined): Promise<https.Agent> {
  if (caFile === undefined) return new https.Agent({ keepAlive: true });
  return new https.Agent({ keepAlive: true, ca: await loadOneDriveCaBundle(caFile) });
}

/**
 * Public roots plus `caFile`, for the transport's agent and MSAL's agent options (same trust for both).
 * @throws DestinationError `ONEDRIVE_CA_FILE` naming the file when it cannot be read or holds no valid PEM certificate.
 */
export function loadOneDriveCaBundle(caFile: string): Promise<string[]> {
  return loadCaBundle(caFile, {
    setting: 'onedrive.caFile',
    error: (message, options) => new DestinationError('ONEDRIVE_CA_FILE', message, options),
  });
}

/**
 * The graph client's last middleware: sends the request through `transport` and hands back a fetch `Response`, so
 * the client's own response and error handling (GraphError) work unchanged.
 */
export function createTransportMiddleware(transport: HttpTransport): Middleware {
  return {
    async execute(context) {
      const url = typeof context.request === 'string' ? context.request : context.request.url;
      const options = context.options ?? {};
      const headers: Record<string, string> = {};
      const source = options.headers;
      if (source instanceof Headers) source.forEach((v, k) => (headers[k.toLowerCase()] = v));
      else if (Array.isArray(source)) for (const [k, v] of source) headers[k.toLowerCase()] = v;
      else if (source !== undefined) for (const [k, v] of Object.entries(source)) headers[k.toLowerCase()] = String(v);
      const rawBody: unknown = options.body;
      const body =
        rawBody === undefined || rawBody === null
          ? undefined
          : Buffer.isBuffer(rawBody) || typeof rawBody === 'string'
            ? rawBody
            : rawBody instanceof Uint8Array
              ? Buffer.from(rawBody)
              : JSON.stringify(rawBody);
      const res = await transport.request({
        method: (options.method ?? 'GET').toUpperCase() as HttpRequest['method'],
        url,
        headers,
        body,
        // GraphRequest.option('signal', ...) passes the caller's AbortSignal through the fetch options.
        signal: options.signal ?? undefined,
      });
      const responseHeaders = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      // A Response may not carry a body with these statuses.
      const noBody = res.status === 204 || res.status === 205 || res.status === 304;
      context.response = new Response(noBody ? null : new Uint8Array(res.body), {
        status: res.status,
        headers: responseHeaders,
      });
    },
  };
}
