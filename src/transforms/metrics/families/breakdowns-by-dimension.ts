/** The pipeline broken down per owner (rep), product, region, deal-size band, customer type and lead source. */
import { bandLabels, breakdown, type Breakdown } from '../breakdowns.js';
import type { Deal } from '../deal.js';
import type { MetricsBasis } from '../metrics-basis.js';

export interface Breakdowns {
  readonly byOwner: Breakdown;
  readonly byProduct: Breakdown;
  /** Region, deal-size band, new vs existing customers, lead source. */
  readonly breakdowns: readonly Breakdown[];
}

function customerTypeLabel(d: Deal): string | null {
  return d.customerType === 'new'
    ? 'New customers'
    : d.customerType === 'existing'
      ? 'Existing customers'
      : d.customerTypeLabel;
}

/**
 * Every breakdown of the deals; a dimension no deal has a value for is unavailable (no rows). The deal-size bands
 * and the customer types keep their fixed order; `staleSet` gives each group its stale count.
 */
export function measureBreakdowns(b: MetricsBasis, staleSet: ReadonlySet<Deal>): Breakdowns {
  const { deals, ctx } = b;
  const band = bandLabels(ctx.config.dealSizeBands, ctx.config.currency);
  const by = (dimension: string, pick: (d: Deal) => string | null): Breakdown =>
    breakdown(
      dimension,
      deals,
      pick,
      deals.some((d) => pick(d) !== null),
      ctx,
      staleSet,
    );
  return {
    byOwner: by('Owner', (d) => d.owner),
    byProduct: by('Product', (d) => d.product),
    breakdowns: [
      by('Region', (d) => d.region),
      breakdown('Deal size', deals, (d) => band.label(d.amount), deals.length > 0, ctx, staleSet, band.order),
      breakdown(
        'Customer',
        deals,
        customerTypeLabel,
        deals.some((d) => d.customerTypeLabel !== null),
        ctx,
        staleSet,
        ['New customers', 'Existing customers'],
      ),
      by('Lead source', (d) => d.leadSource),
    ],
  };
}
