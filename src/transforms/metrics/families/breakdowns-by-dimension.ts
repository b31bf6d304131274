/** The pipeline broken down per owner (rep), product, region, deal-size band, customer type and lead source. */
import type { Translator } from '../../../shared/i18n/translator.js';
import { bandLabels, breakdown, type Breakdown, type DimensionKey } from '../breakdowns.js';
import type { Deal } from '../deal.js';
import type { MetricsBasis } from '../metrics-basis.js';

export interface Breakdowns {
  readonly byOwner: Breakdown;
  readonly byProduct: Breakdown;
  /** Region, deal-size band, new vs existing customers, lead source. */
  readonly breakdowns: readonly Breakdown[];
}

function customerTypeLabel(d: Deal, t: Translator): string | null {
  return d.customerType === 'new'
    ? t.t('group.newCustomers')
    : d.customerType === 'existing'
      ? t.t('group.existingCustomers')
      : d.customerTypeLabel;
}

/**
 * Every breakdown of the deals; a dimension no deal has a value for is unavailable (no rows). The deal-size bands
 * and the customer types keep their fixed order; `staleSet` gives each group its stale count.
 */
export function measureBreakdowns(b: MetricsBasis, staleSet: ReadonlySet<Deal>): Breakdowns {
  const { deals, ctx, t } = b;
  const band = bandLabels(ctx.config.dealSizeBands, ctx.config.currency, t);
  const by = (key: DimensionKey, pick: (d: Deal) => string | null): Breakdown =>
    breakdown(
      key,
      deals,
      pick,
      deals.some((d) => pick(d) !== null),
      ctx,
      staleSet,
    );
  return {
    byOwner: by('owner', (d) => d.owner),
    byProduct: by('product', (d) => d.product),
    breakdowns: [
      by('region', (d) => d.region),
      breakdown('dealSize', deals, (d) => band.label(d.amount), deals.length > 0, ctx, staleSet, band.order),
      breakdown(
        'customer',
        deals,
        (d) => customerTypeLabel(d, t),
        deals.some((d) => d.customerTypeLabel !== null),
        ctx,
        staleSet,
        [t.t('group.newCustomers'), t.t('group.existingCustomers')],
      ),
      by('leadSource', (d) => d.leadSource),
    ],
  };
}
