/** Checks of a {@link SheetSpec}'s parts that its type cannot express; each throws WORKBOOK_INVALID_SPEC. */
import { WorkbookError } from '../shared/errors.js';
import type { SheetSpec } from '../shared/sheet-spec.js';

/** Throws unless `cellFormats` has no more rows than `rows`, and no row more entries than `columns`. */
export function validateCellFormats(spec: SheetSpec): void {
  const formats = spec.cellFormats;
  if (formats === undefined) return;
  if (formats.length > spec.rows.length) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `sheet '${spec.name}': cellFormats has ${formats.length} rows but the sheet has ${spec.rows.length}; cellFormats must be aligned with rows`,
    );
  }
  const wide = formats.findIndex((row) => row !== undefined && row.length > spec.columns.length);
  if (wide !== -1) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `sheet '${spec.name}': cellFormats row ${wide} has ${formats[wide]?.length ?? 0} entries but the sheet has ${spec.columns.length} columns`,
    );
  }
}

/** Throws unless `defined.name` is a valid Excel name and its row and column are inside the sheet. */
export function validateDefinedName(spec: SheetSpec, defined: { name: string; row: number; column: number }): void {
  const valid =
    /^[\p{L}_\\][\p{L}\p{N}_.\\]*$/u.test(defined.name) &&
    defined.name.length <= 255 &&
    !/^[A-Za-z]{1,3}\d+$/.test(defined.name) &&
    !/^[Rr]\d*[Cc]\d*$/.test(defined.name);
  if (!valid) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `defined name '${defined.name}' of sheet '${spec.name}' is not a valid Excel name`,
      {
        hint: 'start with a letter or underscore, use letters, digits, _ and . only, and do not use a cell reference like A1',
      },
    );
  }
  if (
    !Number.isInteger(defined.row) ||
    defined.row < 0 ||
    defined.row >= spec.rows.length ||
    !Number.isInteger(defined.column) ||
    defined.column < 0 ||
    defined.column >= spec.columns.length
  ) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `defined name '${defined.name}' points at row ${defined.row}, column ${defined.column}, outside sheet '${spec.name}' (${spec.rows.length} rows × ${spec.columns.length} columns, 0-based)`,
    );
  }
}

/**
 * Throws unless every block of `spec.before` and `spec.after` fits the sheet's columns: its header and rows no
 * wider, its cell formats aligned with its rows, its spanning column and its links inside it.
 */
export function validateBlocks(spec: SheetSpec): void {
  const width = spec.columns.length;
  const blocks = [...(spec.before ?? []), ...(spec.after ?? [])];
  blocks.forEach((block, b) => {
    const fail = (problem: string): never => {
      throw new WorkbookError('WORKBOOK_INVALID_SPEC', `sheet '${spec.name}': block ${b} ${problem}`);
    };
    if ((block.header?.length ?? 0) > width) fail(`has a header of ${block.header?.length} cells for ${width} columns`);
    const wide = block.rows.findIndex((row) => row.length > width);
    if (wide !== -1) fail(`row ${wide} has ${block.rows[wide]?.length} cells for ${width} columns`);
    if ((block.cellFormats?.length ?? 0) > block.rows.length) fail('has more cellFormats rows than rows');
    if ((block.columns?.length ?? 0) > width) fail(`overrides ${block.columns?.length} columns of ${width}`);
    if (
      block.spanFrom !== undefined &&
      !(Number.isInteger(block.spanFrom) && block.spanFrom >= 0 && block.spanFrom < width)
    )
      fail(`spans from column ${block.spanFrom}, outside the sheet`);
    for (const link of block.links ?? []) {
      if (link.row < 0 || link.row >= block.rows.length || link.column < 0 || link.column >= width)
        fail(`links from row ${link.row}, column ${link.column}, outside the block`);
    }
  });
}
