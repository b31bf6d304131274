/** What a customer costs to win (CAC) and is worth over its lifetime (CLV). */
import type { Deal } from '../deal.js';
import { sumAmounts } from '../deal-slices.js';
import { combine, divide, inputMissing, notAvailable, type Figure } from '../figure.js';
import { acquisitionCost, lifetimeValue } from '../formulas.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';

/** A customer is its account; a deal without an account counts as a customer of its own. */
function customerKey(d: Deal): string {
  return d.account ?? `deal:${d.id}`;
}

/**
 * KPIs `cac` (spend ÷ new customers won in the period) and `clv` (revenue per customer per year × lifetime years ×
 * gross margin; revenue per customer comes from `metrics.clv` or is the period's won revenue per customer,
 * annualised).
 */
export function measureCustomerValue(b: MetricsBasis): { readonly kpis: readonly Kpi[] } {
  const { config, periodDays } = b.ctx;
  const { t } = b;
  const won = b.slices.wonInPeriod;
  const newCustomers = new Set(won.filter((d) => d.customerType === 'new').map(customerKey));
  const hasCustomerType = b.deals.some((d) => d.customerTypeLabel !== null);
  const customersWon = new Set(won.map(customerKey));
  const clvInputs = config.clv;
  const revenuePerCustomerPerYear: Figure =
    clvInputs?.revenuePerCustomerPerYear ??
    combine(
      [divide(sumAmounts(won), customersWon.size, t.t('reason.noWonDeals'))],
      ([perCustomer = 0]) => (perCustomer * 365) / periodDays,
    );
  const customersOf = t.t(won.some((d) => d.account === null) ? 'basis.newCustomersNoAccount' : 'basis.newCustomers');

  return {
    kpis: [
      kpi(
        t,
        'cac',
        config.spend !== undefined && !hasCustomerType
          ? notAvailable(t.t('reason.noCustomerType'))
          : acquisitionCost(config.spend, newCustomers.size, t.t('reason.noNewCustomers')),
        'currency',
        newCustomers.size,
        customersOf,
        b.periodLabel,
      ),
      kpi(
        t,
        'clv',
        clvInputs === undefined
          ? inputMissing('metrics.clv.lifetimeYears')
          : lifetimeValue(revenuePerCustomerPerYear, clvInputs.lifetimeYears, clvInputs.grossMargin),
        'currency',
        customersWon.size,
        t.t(
          clvInputs?.revenuePerCustomerPerYear === undefined
            ? 'basis.customersAnnualised'
            : 'basis.customersFromConfig',
        ),
        b.periodLabel,
      ),
    ],
  };
}
