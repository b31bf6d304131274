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
    // The refresh time is a real date-time (the wall clock in the export's zone), next to its ISO text.
    const refreshed = labels.indexOf('Refreshed at');
    expect(spec.rows[refreshed]?.[1]).toEqual(new Date(Date.UTC(2026, 10, 27, 6, 0, 0)));
    expect(spec.cellFormats?.[refreshed]).toEqual([undefined, 'datetime']);
    expect(spec.rows[labels.indexOf('Refreshed at (ISO 8601)')]?.[1]).toBe('2026-11-27T06:00:00-05:00');
    expect(spec.rows[labels.indexOf('Time zone')]?.[1]).toBe('America/New_York (UTC-05:00)');
    expect(spec.cellFormats?.filter((f) => f !== undefined)).toHaveLength(2);
    expect(spec.columns[1]).toMatchObject({ wrap: true, align: 'left' });
  });
});

describe('buildAboutSheet in French', () => {
  const spec = buildAboutSheet({ ...input, language: 'fr', trigger: { kind: 'manual', by: 'alice' } });
  it('names the sheet, its labels and the kinds of source and trigger in French', () => {
    expect(spec.name).toBe('À propos');
    expect(spec.title).toBe('À propos de ce classeur');
    expect(spec.rows.map((r) => r[0]).slice(0, 4)).toEqual([
      'Export',
      'Actualisé le',
      'Actualisé le (ISO 8601)',
      'Fuseau horaire',
    ]);
    expect(spec.rows.find((r) => r[0] === 'Déclenché par')?.[1]).toBe('manuel (par alice)');
    expect(spec.rows.find((r) => r[0] === '  Source')?.[1]).toBe('Vue Tableau Sales Pipeline / Opportunities');
    expect(spec.rows.find((r) => r[0] === '  Type de source')?.[1]).toBe('tableau');
  });
});

describe('buildAboutSheet: data age (freshness guard)', () => {
  const withAge = (dataAsOf: string, language: AboutInput['language'] = 'en'): AboutInput => ({
    ...input,
    dataAsOf,
    language,
    sheets: [{ ...input.sheets[0]!, provenance: { dataAsOf: dataAsOf === 'live' ? 'live connection' : dataAsOf } }],
  });

  it('shows "Data as of" as a wall-clock date and as ISO 8601, and per sheet', () => {
    const rows = buildAboutSheet(withAge('2026-11-26T02:30:00-05:00')).rows;
    expect(rows).toEqual(
      expect.arrayContaining([
        ['Data as of', new Date(Date.UTC(2026, 10, 26, 2, 30, 0))],
        ['Data as of (ISO 8601)', '2026-11-26T02:30:00-05:00'],
        ['  Data as of', '2026-11-26T02:30:00-05:00'],
      ]),
    );
  });

  it('says "live connection" in the workbook\'s language', () => {
    const rows = buildAboutSheet(withAge('live', 'fr')).rows;
    expect(rows).toEqual(
      expect.arrayContaining([
        ['Données au', 'connexion directe (à jour lors de l’actualisation)'],
        ['  Données au', 'connexion directe (à jour lors de l’actualisation)'],
      ]),
    );
  });

  it('has no data age line when no view was checked', () => {
    expect(buildAboutSheet(input).rows.map((r) => r[0])).not.toContain('Data as of');
  });
});
