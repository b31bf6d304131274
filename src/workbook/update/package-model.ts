/**
 * What update mode needs to know of the team's workbook before touching it: its parts and relationships, its sheets
 * in tab order, its tables with their ranges and columns, and which kind of file it really is. Reads only the small
 * XML parts; sheets are streamed later.
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { WorkbookError } from '../../shared/errors.js';
import { parseRange, type CellRange } from './cell-refs.js';
import { attributesOf, elementText, findElements, findTags } from './xml-tags.js';
import { openZip, type ZipReader } from './zip-reader.js';

export const REL_OFFICE_DOCUMENT = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';
export const REL_WORKSHEET = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet';
export const REL_TABLE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/table';
export const REL_STYLES = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles';
export const REL_SHARED_STRINGS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings';
export const REL_CALC_CHAIN = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain';
export const REL_PIVOT_CACHE =
  'http://schemas.openxmlformats.org/officeDocument/2006/relationships/pivotCacheDefinition';
export const REL_CUSTOM_PROPERTIES =
  'http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties';

const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export interface Relationship {
  readonly id: string;
  readonly type: string;
  /** The target as written. */
  readonly target: string;
  /** The target as a part name (resolved against the source part's folder), or undefined when external. */
  readonly partName: string | undefined;
}

export interface SheetInfo {
  readonly name: string;
  readonly sheetId: number;
  readonly rId: string;
  /** `visible` (absent), `hidden` or `veryHidden`. */
  readonly state: string | undefined;
  readonly partName: string;
  readonly rels: readonly Relationship[];
}

export interface TableColumnInfo {
  readonly id: number;
  readonly name: string;
  /** `<calculatedColumnFormula>` text, when the column is a calculated column. */
  readonly calculatedFormula: string | undefined;
}

export interface TableInfo {
  readonly partName: string;
  readonly sheet: SheetInfo;
  readonly xml: string;
  readonly id: number;
  readonly name: string;
  readonly displayName: string;
  /** Header row through totals row. */
  readonly ref: CellRange;
  readonly headerRowCount: number;
  readonly totalsRowCount: number;
  readonly columns: readonly TableColumnInfo[];
}

export interface PackageModel {
  readonly zip: ZipReader;
  /** What the file is called for messages (the OneDrive or local path). */
  readonly label: string;
  readonly contentTypesXml: string;
  readonly rootRelsXml: string;
  readonly workbookPart: string;
  readonly workbookXml: string;
  readonly workbookRelsPart: string;
  readonly workbookRelsXml: string;
  readonly workbookRels: readonly Relationship[];
  /** Sheets in tab order. */
  readonly sheets: readonly SheetInfo[];
  readonly tables: readonly TableInfo[];
  /** True when the workbook part declares macros (.xlsm), whose vbaProject.bin must survive. */
  readonly macroEnabled: boolean;
}

/** The relationships part of a part: `xl/workbook.xml` → `xl/_rels/workbook.xml.rels`. */
export function relsPartOf(partName: string): string {
  return posix.join(posix.dirname(partName), '_rels', `${posix.basename(partName)}.rels`);
}

/** Parses a relationships part; targets resolved against `sourcePart` (the part the rels belong to). */
export function parseRelationships(xml: string, sourcePart: string): Relationship[] {
  return findTags(xml, 'Relationship').map(({ tag }) => {
    const a = attributesOf(tag);
    const target = a.get('Target') ?? '';
    const external = a.get('TargetMode') === 'External';
    const partName = external
      ? undefined
      : target.startsWith('/')
        ? target.slice(1)
        : posix.normalize(posix.join(posix.dirname(sourcePart), target));
    return { id: a.get('Id') ?? '', type: a.get('Type') ?? '', target, partName };
  });
}

/**
 * Opens the team's workbook and reads its structure.
 * @throws WorkbookError `WORKBOOK_UPDATE_INVALID_TARGET` for anything but an .xlsx/.xlsm package: an encrypted or
 *   password-protected file, an old .xls, an .xlsb, a CSV, a damaged package — each named with its fix.
 */
export async function readPackageModel(path: string, label: string): Promise<PackageModel> {
  await checkMagic(path, label);
  const zip = await openZip(path, label);
  try {
    return await readModel(zip, label);
  } catch (err) {
    await zip.close();
    throw err;
  }
}

function invalid(label: string, what: string, hint: string): WorkbookError {
  return new WorkbookError('WORKBOOK_UPDATE_INVALID_TARGET', `'${label}' cannot be updated: ${what}`, { hint });
}

async function checkMagic(path: string, label: string): Promise<void> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(8);
  try {
    await handle.read(head, 0, 8, 0);
  } finally {
    await handle.close();
  }
  if (head.equals(OLE_MAGIC)) {
    throw invalid(
      label,
      'it is an encrypted or password-protected workbook (or an old .xls), which no program can change without the password',
      'remove the password (File > Info > Protect Workbook > Encrypt with Password) or point the export at another file',
    );
  }
  if (!head.subarray(0, 4).equals(ZIP_MAGIC)) {
    throw invalid(
      label,
      'it is not an .xlsx workbook (it may be a CSV or another kind of file)',
      'save it as Excel Workbook (.xlsx), or set destination.mode: replace to let the export write a new workbook',
    );
  }
}

async function readModel(zip: ZipReader, label: string): Promise<PackageModel> {
  const text = async (name: string): Promise<string | undefined> => {
    const entry = zip.get(name);
    return entry === undefined ? undefined : zip.readText(entry);
  };
  const contentTypesXml = await text('[Content_Types].xml');
  const rootRelsXml = await text('_rels/.rels');
  if (contentTypesXml === undefined || rootRelsXml === undefined) {
    throw invalid(
      label,
      'it has no [Content_Types].xml or _rels/.rels: not an Office document',
      'open it in Excel and save it as .xlsx',
    );
  }
  const workbookPart = parseRelationships(rootRelsXml, '').find((r) => r.type === REL_OFFICE_DOCUMENT)?.partName;
  const workbookXml = workbookPart === undefined ? undefined : await text(workbookPart);
  if (workbookPart === undefined || workbookXml === undefined) {
    throw invalid(label, 'it has no workbook part', 'open it in Excel and save it as .xlsx');
  }
  if (workbookPart.endsWith('.bin')) {
    throw invalid(
      label,
      'it is an Excel Binary Workbook (.xlsb)',
      'save it as Excel Workbook (.xlsx) or Excel Macro-Enabled Workbook (.xlsm)',
    );
  }
  const workbookRelsPart = relsPartOf(workbookPart);
  const workbookRelsXml = (await text(workbookRelsPart)) ?? '';
  const workbookRels = parseRelationships(workbookRelsXml, workbookPart);
  const sheets: SheetInfo[] = [];
  for (const { tag } of findTags(workbookXml, 'sheet')) {
    const a = attributesOf(tag);
    const rId = a.get('r:id') ?? [...a.entries()].find(([k]) => k.endsWith(':id'))?.[1] ?? '';
    const rel = workbookRels.find((r) => r.id === rId);
    // Chart sheets and dialog sheets are kept as they are; only worksheets can hold our tables.
    if (rel?.partName === undefined || rel.type !== REL_WORKSHEET) continue;
    const relsXml = (await text(relsPartOf(rel.partName))) ?? '';
    sheets.push({
      name: a.get('name') ?? '',
      sheetId: Number(a.get('sheetId') ?? 0),
      rId,
      state: a.get('state'),
      partName: rel.partName,
      rels: parseRelationships(relsXml, rel.partName),
    });
  }
  const tables: TableInfo[] = [];
  for (const sheet of sheets) {
    for (const rel of sheet.rels) {
      if (rel.type !== REL_TABLE || rel.partName === undefined) continue;
      const xml = await text(rel.partName);
      if (xml !== undefined) tables.push(parseTable(xml, rel.partName, sheet, label));
    }
  }
  const macroEnabled = /macroEnabled/i.test(
    findTags(contentTypesXml, 'Override').find(({ tag }) => attributesOf(tag).get('PartName') === `/${workbookPart}`)
      ?.tag ?? '',
  );
  return {
    zip,
    label,
    contentTypesXml,
    rootRelsXml,
    workbookPart,
    workbookXml,
    workbookRelsPart,
    workbookRelsXml,
    workbookRels,
    sheets,
    tables,
    macroEnabled,
  };
}

function parseTable(xml: string, partName: string, sheet: SheetInfo, label: string): TableInfo {
  const root = findTags(xml, 'table')[0];
  const a = attributesOf(root?.tag ?? '');
  const ref = parseRange(a.get('ref') ?? '');
  if (root === undefined || ref === undefined) {
    throw invalid(
      label,
      `its table part ${partName} has no valid ref`,
      'open the workbook in Excel, which repairs it, and save it again',
    );
  }
  const columns = findElements(xml, 'tableColumn').map((c) => {
    const ca = attributesOf(c.xml);
    const formula = findElements(c.xml, 'calculatedColumnFormula')[0];
    return {
      id: Number(ca.get('id') ?? 0),
      name: ca.get('name') ?? '',
      calculatedFormula: formula === undefined ? undefined : elementText(formula.xml),
    };
  });
  return {
    partName,
    sheet,
    xml,
    id: Number(a.get('id') ?? 0),
    name: a.get('name') ?? '',
    displayName: a.get('displayName') ?? a.get('name') ?? '',
    ref,
    headerRowCount: Number(a.get('headerRowCount') ?? 1),
    totalsRowCount: Number(a.get('totalsRowCount') ?? 0),
    columns,
  };
}
