/**
 * Short-lived download tickets: a browser link cannot send the `Authorization` header, and the admin token must never
 * travel in a URL (proxies and access logs keep URLs). So the dashboard asks for a ticket with its token (POST), and
 * the link carries the ticket: valid for one export's file only, for a minute, and naming who asked for it.
 *
 * Tickets are signed (HMAC-SHA256), not stored: any replica of the admin server that has the same admin tokens
 * verifies them, so a link issued by one replica works behind a load balancer. The key is derived from every admin
 * token, so rotating the tokens also voids every ticket.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import type { AdminToken } from './auth.js';

/** How long a ticket is valid: long enough to click, short enough that a copied link is useless soon after. */
export const TICKET_TTL_MS = 60_000;

export interface DownloadTickets {
  /** A ticket for the file of `exportId`, issued to `caller` (an admin token's name). */
  issue(exportId: string, caller: string): { readonly ticket: string; readonly expiresAt: Date };
  /** The caller a ticket was issued to, when it is genuine, unexpired and for this export; else undefined. */
  verify(ticket: string, exportId: string): { readonly caller: string } | undefined;
}

const payloadSchema = z.object({ e: z.string(), c: z.string(), x: z.number() });

export function createDownloadTickets(deps: {
  readonly tokens: readonly AdminToken[];
  readonly clock: Clock;
  readonly ttlMs?: number | undefined;
}): DownloadTickets {
  const ttl = deps.ttlMs ?? TICKET_TTL_MS;
  const key = createHash('sha256')
    .update('tableau-export download tickets v1\0')
    .update(
      [...deps.tokens]
        .map((t) => t.token)
        .sort()
        .join('\0'),
    )
    .digest();
  const sign = (payload: string): Buffer => createHmac('sha256', key).update(payload).digest();

  return {
    issue(exportId, caller) {
      const expiresAt = new Date(deps.clock.now().getTime() + ttl);
      const payload = Buffer.from(JSON.stringify({ e: exportId, c: caller, x: expiresAt.getTime() })).toString(
        'base64url',
      );
      return { ticket: `${payload}.${sign(payload).toString('base64url')}`, expiresAt };
    },

    verify(ticket, exportId) {
      const [payload, signature, ...rest] = ticket.split('.');
      if (payload === undefined || signature === undefined || rest.length > 0) return undefined;
      const expected = sign(payload);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let data: unknown;
      try {
        data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      const parsed = payloadSchema.safeParse(data);
      if (!parsed.success || parsed.data.e !== exportId || parsed.data.x < deps.clock.now().getTime()) return undefined;
      return { caller: parsed.data.c };
    },
  };
}
