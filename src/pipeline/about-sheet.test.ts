import { describe, expect, it } from 'vitest';
import { buildAboutSheet, type AboutInput } from './about-sheet.js';

const input: AboutInput = {
  exportId: 'sales-pipeline-nightly',
  description: undefined,
  refreshedAt: '2026-11-27T06:00:00-05:00',
  timezone: 'America/New_York',
  runId: 'run-1',
  trigger: { kind: 'cli' },
  toolVersion: '0.1.0',
  destination: 'OneDrive ops@contoso.com/Reports/Sales Pipeline.xlsx',
  sheets: [
    {
      sheet: 'Opportunities',
      rows: 5019,
      source: 'Tableau view Sales Pipeline / Opportunities',
      filters: 'Region = EMEA',
      provenance: {
        source: 'tableau',
        productVersion: '2024.2.0',
        viewUrl: 'https://tableau/x',
        filters: 'Region = EMEA',
        someNewKey: 'v',
      },
    },
  ],
  warnings: ['one warning'],
};

describe('buildAboutSheet', () => {
  const spec = buildAboutSheet(input);
  const labels = spec.rows.map((r) => r[0]);

  it('labels provenance readably, once per fact, with a blank line before each sheet and the warnings', () => {
    expect(labels.slice(labels.indexOf('Tool version'))).toEqual([
      'Tool version',
      null,
      'Sheet',
      '  Source',
      '  Rows',
      '  Filters',
      '  Source type',
      '  Server version',
      '  View URL',
      '  Some new key',
      null,
      'Warning',
    ]);
  });

  it('keeps row counts numeric with a thousands format, and wraps left-aligned values', () => {
    const rowsIndex = labels.indexOf('  Rows');
    expect(spec.rows[rowsIndex]?.[1]).toBe(5019);
    expect(spec.cellFormats?.[rowsIndex]).toEqual([undefined, 'integer']);
    expect(spec.cellFormats?.filter((f) => f !== undefined)).toHaveLength(1);
    expect(spec.columns[1]).toMatchObject({ wrap: true, align: 'left' });
  });
});
