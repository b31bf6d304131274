import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { scanSheet, type SheetPiece } from './sheet-scan.js';

const SHEET =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:dimension ref="A1:C9"/>' +
  '<x:sheetData>\n' +
  '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Société 東京 😀</x:t></x:is></x:c></x:row>\n' +
  '<x:row r=\'2\' spans="1:3"><x:c r="B2"><x:v>2</x:v></x:c></x:row>' +
  '<x:row spans="1:3" r="5"><x:c r="C5"><x:v>5</x:v></x:c></x:row>' +
  '<x:row><x:c><x:v>6</x:v></x:c></x:row>' +
  '<x:row r="7"/>' +
  '<x:rowBreaks/>' +
  '<x:row r="12" ht="30"><x:c r="A12"><x:f>SUM(A1:A9)</x:f></x:c></x:row>' +
  '</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="A1:B1"/></x:mergeCells></x:worksheet>';

async function scanned(chunks: readonly Buffer[]): Promise<SheetPiece[]> {
  const pieces: SheetPiece[] = [];
  for await (const piece of scanSheet(Readable.from(chunks), 'x:')) pieces.push(piece);
  return pieces;
}

describe('scanSheet', () => {
  it('reads prefix, every row with its number (first, later, single-quoted or missing r) and the suffix', async () => {
    const pieces = await scanned([Buffer.from(SHEET)]);
    expect(pieces.map((p) => (p.kind === 'row' ? p.row : p.kind))).toEqual(['prefix', 1, 2, 5, 6, 7, 12, 'suffix']);
    expect(pieces[0]?.xml.endsWith('<x:sheetData>')).toBe(true);
    expect(pieces[1]?.xml).toBe(
      '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Société 東京 😀</x:t></x:is></x:c></x:row>',
    );
    expect(pieces[5]?.xml).toBe('<x:row r="7"/>');
    expect(pieces.at(-1)?.xml).toBe(
      '</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="A1:B1"/></x:mergeCells></x:worksheet>',
    );
    // Nothing is lost or doubled: the pieces and what was skipped between them (whitespace, rowBreaks) are the sheet.
    expect(pieces.map((p) => p.xml).join('')).toBe(SHEET.replace(/\n(?=<x:row)/g, '').replace('<x:rowBreaks/>', ''));
  });

  it('gives the same pieces wherever the bytes are cut, even inside a character', async () => {
    const bytes = Buffer.from(SHEET);
    const whole = await scanned([bytes]);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      expect(await scanned([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at ${cut}`).toEqual(whole);
    }
    const oneByOne = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(await scanned(oneByOne)).toEqual(whole);
  });

  it('destroys the stream when the reader stops early', async () => {
    const stream = Readable.from([Buffer.from(SHEET)]);
    for await (const piece of scanSheet(stream, 'x:')) {
      if (piece.kind === 'row') break;
    }
    expect(stream.destroyed).toBe(true);
  });

  it('fails on a sheet that ends inside its rows', async () => {
    await expect(scanned([Buffer.from(SHEET.slice(0, SHEET.indexOf('<x:row r="7"')))])).rejects.toThrow(
      'the worksheet ends before </sheetData>',
    );
  });
});
