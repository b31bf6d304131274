import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../shared/xml-entities.js';
import {
  createWorkbookNameRegistry,
  renderTablePartXml,
  tableRef,
  toTableColumnNames,
  toTableName,
} from './table-part.js';

describe('toTableName', () => {
  it.each([
    ['Opportunities', 'Opportunities'],
    ['Pipeline by Stage', 'Pipeline_by_Stage'],
    ['Opportunities (2)', 'Opportunities_2'],
    ['2026 Deals', '_2026_Deals'],
    ['AB12', '_AB12'],
    ['R1C1', '_R1C1'],
    ['C', '_C'],
    ['---', 'Table'],
    ['Prévisions', 'Prévisions'],
  ])('%j → %j', (input, expected) => {
    expect(toTableName(input)).toBe(expected);
  });
});

describe('createWorkbookNameRegistry', () => {
  it('makes table names unique ignoring case and respects defined names', () => {
    const registry = createWorkbookNameRegistry();
    expect(registry.tryTakeExact('WinRate')).toBe(true);
    expect(registry.takeTableName('winrate')).toBe('winrate_2');
    expect(registry.takeTableName('Summary')).toBe('Summary');
    expect(registry.takeTableName('SUMMARY')).toBe('SUMMARY_2');
    expect(registry.tryTakeExact('summary')).toBe(false);
  });
});

describe('toTableColumnNames', () => {
  it('makes header texts unique, non-empty and single-line', () => {
    expect(toTableColumnNames(['Amount', 'amount', '', 'Line\nbreak', 'Amount'])).toEqual([
      'Amount',
      'amount (2)',
      'Column 3',
      'Line break',
      'Amount (3)',
    ]);
  });
});

describe('renderTablePartXml', () => {
  it('covers header and rows, and at least one data row', () => {
    expect(tableRef({ headerRow: 1, dataRows: 1000, columnNames: ['a', 'b', 'c'] })).toBe('A1:C1001');
    expect(tableRef({ headerRow: 3, dataRows: 0, columnNames: ['a'] })).toBe('A3:A4');
  });

  it('renders a well-formed table part', () => {
    const xml = renderTablePartXml({
      id: 4,
      name: 'Deals',
      headerRow: 1,
      dataRows: 2,
      columnNames: ['Name & "id"', 'Amount'],
    });
    const parsed = new XMLParser({
      ...SAFE_XML_PARSER_OPTIONS,
      ignoreAttributes: false,
      attributeNamePrefix: '',
    }).parse(xml) as {
      table: {
        id: string;
        name: string;
        ref: string;
        autoFilter: { ref: string };
        tableColumns: { count: string; tableColumn: { id: string; name: string }[] };
      };
    };
    expect(parsed.table).toMatchObject({ id: '4', name: 'Deals', ref: 'A1:B3', autoFilter: { ref: 'A1:B3' } });
    expect(parsed.table.tableColumns.count).toBe('2');
    expect(parsed.table.tableColumns.tableColumn.map((c) => c.name)).toEqual(['Name & "id"', 'Amount']);
  });
});
