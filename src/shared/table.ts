/**
 * Domain types for tabular data, shared by sources, transforms and the workbook writer. API shapes (Tableau XML,
 * Graph JSON) never appear here.
 */

/** The type inferred for a column of Tableau display values. */
export type ColumnType = 'text' | 'integer' | 'number' | 'currency' | 'percent' | 'date' | 'datetime' | 'boolean';

/** A typed column: its header, its type, and the Excel number format to show it with (undefined = General). */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly numFmt: string | undefined;
}

/**
 * A typed cell. Dates are JS Dates holding the *wall-clock* date/time in UTC fields (a Tableau `11/27/2026 9:30 AM`
 * becomes `Date.UTC(2026, 10, 27, 9, 30)`), because Excel dates have no time zone. `null` is a blank cell.
 */
export type CellValue = string | number | boolean | Date | null;

export type TypedRow = readonly CellValue[];

/** A row of raw display strings, aligned with its header. */
export type RawRow = readonly string[];

/** Named facts about where a sheet's data came from (server, view LUID, filters, maxAge, file path...). */
export type Provenance = Readonly<Record<string, string>>;
