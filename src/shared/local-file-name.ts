/**
 * The rule for the file name of a local destination, shared by `validate` (config rules) and the local destination
 * itself (`run`, `serve`), so a name that a run would refuse is refused up front, with the same words.
 */
import { basename } from 'node:path';

/**
 * What is wrong with `fileName` as a local workbook name ("contains control characters"), or undefined when it is
 * a plain `.xlsx` name: not empty, no path separator, no control character (NUL included), not only `.xlsx`.
 */
export function localFileNameProblem(fileName: string): string | undefined {
  if (fileName.trim() === '') return 'is empty';
  if (/[/\\]/.test(fileName) || basename(fileName) !== fileName) return 'contains a path separator';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
  if (/[\u0000-\u001f\u007f]/.test(fileName)) return 'contains control characters';
  if (!/\.xlsx$/i.test(fileName) || fileName.length <= '.xlsx'.length) return 'does not end with .xlsx';
  return undefined;
}

/** The fix printed with a refused name. */
export const LOCAL_FILE_NAME_HINT = "use a plain file name such as 'Sales Pipeline.xlsx' and put the folder in 'dir'";
