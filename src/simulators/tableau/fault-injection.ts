/**
 * Fault injection for the Tableau simulator: a queue of faults, each hitting the next matching request(s), and the
 * answers of the faults that replace a response (status, throttle, gateway pages). Body faults (slow, cut) are
 * applied while sending, by {@link sendResponse}.
 */
import { errorXml, type XmlWriter } from './sim-xml.js';
import { html, type SimResponse } from './sim-reply.js';

export type FaultTarget = 'serverinfo' | 'signin' | 'signout' | 'views' | 'workbooks' | 'data' | 'any';

export type TableauFault = (
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly code?: string;
      readonly summary?: string;
      readonly detail?: string;
      readonly retryAfter?: string;
    }
  /** 429 with an HTML body, as Tableau Cloud's export concurrency limit answers. */
  | { readonly kind: 'throttle'; readonly retryAfter?: string }
  /** 503 HTML page from the gateway. */
  | { readonly kind: 'unavailable'; readonly retryAfter?: string }
  /** An HTML error page (default 502), e.g. from a proxy. */
  | { readonly kind: 'html-error'; readonly status?: number }
  /** Invalidates the caller's session, then answers 401002 (a token expired or replaced mid-run). */
  | { readonly kind: 'expire-session' }
  /** Sends part of the body, pauses `delayMs`, then the rest. */
  | { readonly kind: 'slow-body'; readonly delayMs: number }
  /** Sends `afterBytes` (default half) of the body and closes the connection; with Content-Length unless `chunked`. */
  | { readonly kind: 'cut-body'; readonly afterBytes?: number; readonly chunked?: boolean }
  /** Drops the connection before answering. */
  | { readonly kind: 'reset' }
) & {
  /** Which requests it hits (default `data`). */
  readonly on?: FaultTarget;
  /** How many matching requests it hits (default 1). */
  readonly times?: number;
};

export interface TableauFaults {
  /** Queues a fault for the next matching request(s). */
  next(fault: TableauFault): void;
  clear(): void;
  /** Faults still queued. */
  readonly pending: number;
}

/** A queued fault and how many more requests it hits. */
export interface QueuedFault {
  readonly fault: TableauFault;
  left: number;
}

/** The public handle on a simulator's fault queue. */
export function createTableauFaults(queue: QueuedFault[]): TableauFaults {
  return {
    next(fault) {
      queue.push({ fault, left: Math.max(1, fault.times ?? 1) });
    },
    clear() {
      queue.length = 0;
    },
    get pending() {
      return queue.length;
    },
  };
}

/** Which fault target a request path is (`other` for paths no fault can name but `any`). */
export function classifyEndpoint(path: string): FaultTarget | 'other' {
  if (/\/serverinfo$/i.test(path) || path === '/auth') return 'serverinfo';
  if (path.endsWith('/auth/signin')) return 'signin';
  if (path.endsWith('/auth/signout')) return 'signout';
  if (/\/views\/[^/]+\/data$/.test(path)) return 'data';
  if (/\/workbooks(\/|$)/.test(path)) return 'workbooks';
  if (/\/views(\/|$)/.test(path)) return 'views';
  return 'other';
}

/** Takes the first queued fault that hits `endpoint`, consuming one of its hits; undefined when none does. */
export function takeFault(queue: QueuedFault[], endpoint: FaultTarget | 'other'): TableauFault | undefined {
  const i = queue.findIndex((f) => {
    const on = f.fault.on ?? 'data';
    return on === 'any' || on === endpoint;
  });
  if (i < 0) return undefined;
  const entry = queue[i];
  if (entry === undefined) return undefined;
  entry.left -= 1;
  if (entry.left <= 0) queue.splice(i, 1);
  return entry.fault;
}

/** The answer that replaces the response for a status-like fault; undefined for faults that do not replace it. */
export function statusFaultResponse(w: XmlWriter, fault: TableauFault, apiVersion: string): SimResponse | undefined {
  switch (fault.kind) {
    case 'status': {
      const body =
        fault.code === undefined
          ? html(`${fault.status} Error`, 'Simulated failure.')
          : Buffer.from(
              w.doc(
                errorXml(w, fault.code, fault.summary ?? 'Error', fault.detail ?? 'Simulated failure.'),
                apiVersion,
              ),
            );
      return {
        status: fault.status,
        headers: {
          'Content-Type': fault.code === undefined ? 'text/html' : 'application/xml',
          ...(fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter }),
        },
        body,
      };
    }
    case 'throttle':
      return {
        status: 429,
        headers: {
          'Content-Type': 'text/html; charset=utf-8',
          ...(fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter }),
        },
        body: html(
          '429 Too Many Requests',
          'Too many concurrent requests to long-running endpoints on this site. Try again later.',
        ),
      };
    case 'unavailable':
      return {
        status: 503,
        headers: {
          'Content-Type': 'text/html; charset=utf-8',
          ...(fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter }),
        },
        body: html('503 Service Unavailable', 'The server is temporarily unable to service your request.'),
      };
    case 'html-error': {
      const status = fault.status ?? 502;
      return {
        status,
        headers: { 'Content-Type': 'text/html' },
        body: html(`${status} Bad Gateway`, 'The proxy server received an invalid response from an upstream server.'),
      };
    }
    default:
      return undefined;
  }
}
