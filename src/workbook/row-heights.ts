/** Heights for rows whose text wraps, estimated from the text and the column widths. */

// Points per line of 11-pt text: Excel's default row height.
const LINE_HEIGHT_POINTS = 15;
// Characters of prose per unit of column width, with a margin (see estimateWrappedLines).
const PROSE_CHARS_PER_WIDTH = 1.15;

/**
 * Lines `text` takes when wrapped in a column `width` characters wide. Excel's width unit is one digit of the
 * default font; prose averages narrower (≈ 1.25 characters per unit in Calibri 11, measured on the rendered
 * Summary), and 1.15 keeps a margin so the estimate errs towards a line too many rather than cutting text off.
 */
export function estimateWrappedLines(text: string, width: number): number {
  const perLine = Math.max(1, Math.floor(width * PROSE_CHARS_PER_WIDTH));
  let lines = 0;
  for (const paragraph of text.split('\n')) {
    lines += 1;
    let used = 0;
    for (const word of paragraph.split(/\s+/).filter((w) => w !== '')) {
      if (used > 0 && used + 1 + word.length <= perLine) {
        used += 1 + word.length;
        continue;
      }
      if (used > 0) lines += 1;
      // A word longer than a line is broken across lines.
      const extra = Math.ceil(word.length / perLine) - 1;
      lines += extra;
      used = word.length - extra * perLine;
    }
  }
  return lines;
}

/** The height in points of a row `lines` lines tall; undefined for one line (the reader's default). */
export function heightForLines(lines: number): number | undefined {
  return lines > 1 ? lines * LINE_HEIGHT_POINTS : undefined;
}

/** Gives a rendered `<row>` a fixed height in points (undefined: leave it to the reader). */
export function withRowHeight(rowXml: string, heightPoints: number | undefined): string {
  if (heightPoints === undefined) return rowXml;
  return rowXml.replace(/^<row r="(\d+)">/, `<row r="$1" ht="${heightPoints}" customHeight="1">`);
}
