import { describe, expect, it } from 'vitest';
import { buildViewDataQuery, describeViewFilters, encodeViewFilterValues } from './view-filters.js';

describe('encodeViewFilterValues', () => {
  it.each([
    [['East'], 'East'],
    [['East', 'West'], 'East,West'],
    [['Smith, Jones & Co'], 'Smith\\,%20Jones%20%26%20Co'],
    [['a,b', 'c'], 'a\\,b,c'],
    [['Zürich Rückversicherung'], 'Z%C3%BCrich%20R%C3%BCckversicherung'],
    [['100%'], '100%25'],
    [[], ''],
  ])('%j → %s', (values, expected) => {
    expect(encodeViewFilterValues(values)).toBe(expected);
  });
});

describe('buildViewDataQuery', () => {
  it('always sends maxAge first, then sorted vf_ filters and vf_Parameters', () => {
    expect(
      buildViewDataQuery({
        filters: { Stage: ['Closed Won'], 'Lead Source': ['Web', 'Trade Show'] },
        parameters: { 'As Of': '2026-11-27' },
        maxAgeMinutes: 1,
      }),
    ).toBe('maxAge=1&vf_Lead%20Source=Web,Trade%20Show&vf_Stage=Closed%20Won&vf_Parameters.As%20Of=2026-11-27');
  });

  it('sends an empty value to clear a saved filter', () => {
    expect(buildViewDataQuery({ filters: { Region: [] }, parameters: {}, maxAgeMinutes: 30 })).toBe(
      'maxAge=30&vf_Region=',
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxAge %s', (maxAgeMinutes) => {
    expect(() => buildViewDataQuery({ filters: {}, parameters: {}, maxAgeMinutes })).toThrow(
      /maxAge must be a whole number of minutes/,
    );
  });
});

describe('describeViewFilters', () => {
  it('is readable for provenance', () => {
    expect(describeViewFilters({ Region: ['EMEA', 'NA'], Owner: [] }, { Quarter: 'Q3' })).toBe(
      'Owner = (all); Region = EMEA | NA; Parameters.Quarter = Q3',
    );
    expect(describeViewFilters({}, {})).toBe('(none)');
  });
});
