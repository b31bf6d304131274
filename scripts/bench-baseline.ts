/**
 * Benchmark worker for the baselines — the usual ways to write xlsx from Node, each used the plain way:
 * - `exceljs-memory`: exceljs's in-memory Workbook, `addRow` per row, `xlsx.writeFile`;
 * - `exceljs-stream-plain`: exceljs's streaming WorkbookWriter with default options, `addRow(values).commit()`;
 * - `sheetjs`: SheetJS `aoa_to_sheet` + `writeFile` with default options.
 * All are fed the same typed rows: csv-parse read twice (infer the column types, then convert) with the project's
 * type inference and row converter, so every writer writes the same values as ours. Only the chosen library is
 * loaded, so the process's RSS is that writer's.
 *
 * `bench-baseline --writer NAME --csv FILE --out FILE.xlsx` prints one JSON line (see WorkerResult).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import type { CellValue } from '../src/shared/table.js';
import { createRowConverter, createTypeInference } from '../src/transforms/infer-types.js';
import {
  maxRssMiB,
  requiredArg,
  runWorkerMain,
  secondsSince,
  cpuSecondsSince,
  type WorkerResult,
} from './bench-types.js';

const USAGE = 'bench-baseline --writer exceljs-memory|exceljs-stream-plain|sheetjs --csv FILE --out FILE.xlsx';
const SHEET = 'Opportunities';

/** Records of the CSV with the reader's former csv-parse options, from record `from` (1 = the header). */
async function* csvParseRecords(path: string, from: number, to?: number): AsyncGenerator<string[]> {
  const parser = createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(
    parse({ bom: true, skip_empty_lines: true, from, ...(to === undefined ? {} : { to }) }),
  );
  for await (const record of parser) yield record as string[];
}

/** The header and a re-readable stream of typed rows, as the pipeline gets them (two passes over the CSV). */
async function typedRows(path: string): Promise<{ header: string[]; rows: () => AsyncGenerator<CellValue[]> }> {
  let header: string[] | undefined;
  for await (const record of csvParseRecords(path, 1, 1)) header = record;
  if (header === undefined) throw new Error(`${path} has no header`);
  const inference = createTypeInference(header);
  for await (const row of csvParseRecords(path, 2)) inference.observe(row);
  const convert = createRowConverter(inference.columns());
  return {
    header,
    rows: async function* () {
      for await (const row of csvParseRecords(path, 2)) yield convert(row);
    },
  };
}

async function writeExceljsMemory(csv: string, out: string): Promise<void> {
  const { default: ExcelJS } = await import('exceljs');
  const { header, rows } = await typedRows(csv);
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(SHEET);
  sheet.addRow(header);
  for await (const values of rows()) sheet.addRow(values);
  await workbook.xlsx.writeFile(out);
}

async function writeExceljsStreamPlain(csv: string, out: string): Promise<void> {
  const { default: ExcelJS } = await import('exceljs');
  const { header, rows } = await typedRows(csv);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: out });
  const sheet = workbook.addWorksheet(SHEET);
  sheet.addRow(header).commit();
  for await (const values of rows()) sheet.addRow(values).commit();
  sheet.commit();
  await workbook.commit();
}

async function writeSheetjs(csv: string, out: string): Promise<void> {
  const { default: XLSX } = await import('xlsx');
  const { header, rows } = await typedRows(csv);
  const aoa: CellValue[][] = [header];
  for await (const values of rows()) aoa.push(values);
  const workbook = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(workbook, XLSX.utils.aoa_to_sheet(aoa), SHEET);
  XLSX.writeFile(workbook, out);
}

const BASELINE_WRITERS = {
  'exceljs-memory': writeExceljsMemory,
  'exceljs-stream-plain': writeExceljsStreamPlain,
  sheetjs: writeSheetjs,
} as const;

function isBaseline(name: string): name is keyof typeof BASELINE_WRITERS {
  return Object.hasOwn(BASELINE_WRITERS, name);
}

async function measureBaseline(): Promise<WorkerResult> {
  const writer = requiredArg('writer', USAGE);
  if (!isBaseline(writer)) throw new Error(`unknown baseline "${writer}"; usage: ${USAGE}`);
  const csv = requiredArg('csv', USAGE);
  const out = requiredArg('out', USAGE);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await BASELINE_WRITERS[writer](csv, out);
  const wallSeconds = secondsSince(start);
  const cpuSeconds = cpuSecondsSince(cpuStart);
  return { writer, wallSeconds, cpuSeconds, maxRssMiB: maxRssMiB(), fileBytes: (await stat(out)).size };
}

runWorkerMain(measureBaseline);
