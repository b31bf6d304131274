/**
 * "Skip if unchanged", the same rule for every destination: when the data hash equals the last successful
 * delivery's and the destination still holds that very file, nothing is written, so teammates get no new version
 * for the same numbers. A file that was replaced, moved or deleted meanwhile is delivered again.
 */
import type { DeliveryContext, Destination, FetchCurrentContext, PreviousDelivery } from '../contracts/ports.js';

/**
 * True when the file of `previous` is still at the target: in replace mode as delivered (same item, same size); in
 * update mode the same item (teammates' edits change its size, and that is expected).
 */
export type HoldsPrevious = (
  previous: Pick<PreviousDelivery, 'location' | 'itemId' | 'bytes'>,
  ctx: { readonly signal: AbortSignal },
) => Promise<boolean>;

/** Wraps `destination` so that it answers `unchanged` instead of delivering the same data again. */
export function skipWhenUnchanged(destination: Destination, holds: HoldsPrevious, enabled: boolean): Destination {
  if (!enabled) return destination;
  return {
    describe: () => destination.describe(),
    ...(destination.fetchCurrent === undefined
      ? {}
      : {
          // Update mode asks before downloading: the same data and the file still there means nothing to do.
          fetchCurrent: async (ctx: FetchCurrentContext) => {
            const previous = ctx.previous;
            if (
              sameData(previous, ctx.dataHash) &&
              (await holds(previous, { signal: ctx.signal }).catch(() => false))
            ) {
              return { unchanged: true as const, location: previous.location };
            }
            return destination.fetchCurrent?.(ctx);
          },
        }),
    async deliver(file, ctx: DeliveryContext) {
      const previous = ctx.previous;
      if (sameData(previous, file.dataHash)) {
        const still = await holds(previous, { signal: ctx.signal }).catch(() => false);
        if (still) {
          return {
            location: previous.location,
            webUrl: previous.webUrl,
            itemId: previous.itemId,
            eTag: previous.eTag,
            unchanged: true,
            warnings: [],
          };
        }
      }
      return destination.deliver(file, ctx);
    },
  };
}

function sameData(previous: PreviousDelivery | undefined, dataHash: string | undefined): previous is PreviousDelivery {
  return previous?.dataHash !== undefined && dataHash !== undefined && previous.dataHash === dataHash;
}
