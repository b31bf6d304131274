import { describe, expect, it } from 'vitest';
import { buildSimContent, renderViewTable, splitFilterValues } from './sim-content.js';

const pipeline = { seed: 3, count: 80, asOf: new Date(Date.UTC(2026, 10, 27)) };

describe('splitFilterValues (Tableau vf_ semantics)', () => {
  it.each([
    ['East', ['East']],
    ['East,West', ['East', 'West']],
    ['Smith\\, Jones,Acme', ['Smith, Jones', 'Acme']],
    ['', []],
  ])('%s', (raw, values) => {
    expect(splitFilterValues(raw)).toEqual(values);
  });
});

describe('renderViewTable', () => {
  const [sales] = buildSimContent();
  if (sales === undefined) throw new Error('no content');
  const byName = (name: string) => {
    const v = sales.views.find((x) => x.name === name);
    if (v === undefined) throw new Error(name);
    return v;
  };

  it('renders Pipeline by Stage in Measure Names/Values long form whose counts add up to the filtered rows', () => {
    const emea = [...renderViewTable(byName('Opportunities'), sales, pipeline, new Map([['Region', ['EMEA']]])).rows];
    const table = renderViewTable(byName('Pipeline by Stage'), sales, pipeline, new Map([['Region', ['EMEA']]]));
    expect(table.header).toEqual([
      'Measure Names',
      'Stage',
      'Count of Opportunities',
      'Measure Values',
      'Amount',
      'Weighted Amount',
    ]);
    const rows = [...table.rows];
    const counts = rows
      .filter((r) => r[0] === 'Count of Opportunities')
      .map((r) => Number((r[3] ?? '').replace(/,/g, '')));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(emea.length);
    expect(rows.length).toBe(counts.length * 3);
  });

  it('ignores unknown fields and returns the first worksheet (alphabetically) for the dashboard', () => {
    const all = [...renderViewTable(byName('Opportunities'), sales, pipeline, new Map()).rows];
    expect([...renderViewTable(byName('Opportunities'), sales, pipeline, new Map([['Nope', ['x']]])).rows]).toEqual(
      all,
    );
    // Pipeline by Stage, Rep Performance, Stage Targets (hidden) and Opportunities: the first published one wins.
    expect(renderViewTable(byName('Pipeline Overview'), sales, pipeline, new Map()).header[0]).toBe('Opportunity ID');
  });
});
