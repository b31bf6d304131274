/**
 * A local CSV file as a source: offline use, tests and the demo. Each view names its file (`view.file`), read with
 * the same reader as Tableau downloads, so a CSV saved from Tableau exports exactly as the live view would.
 */
import { access } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { SourceError } from '../../shared/errors.js';
import type { FetchContext, RawTable, Source, SourceSession, ViewRequest } from '../../contracts/ports.js';
import { openCsvTable } from './read-csv.js';

export interface CsvSourceOptions {
  /** Folder relative `view.file` paths are resolved from (usually the configuration file's folder). */
  readonly baseDir: string;
}

/**
 * Creates a {@link Source} that reads `view.file` (relative to `baseDir`). Filters are not applied (a file has no
 * server to filter it); the filter check downstream reports rows outside the requested values.
 *
 * @throws SourceError `CSV_NOT_FOUND` from fetchView when the file is missing, or a view has no `file`.
 */
export function createCsvSource(options: CsvSourceOptions): Source {
  const session: SourceSession = {
    async fetchView(view: ViewRequest, _ctx: FetchContext): Promise<RawTable> {
      if (view.file === undefined || view.file === '') {
        throw new SourceError('CSV_NOT_FOUND', 'a view of the csv source has no file', {
          hint: 'set `file: path/to/data.csv` on the view (relative to the configuration file)',
        });
      }
      const path = isAbsolute(view.file) ? view.file : resolve(options.baseDir, view.file);
      try {
        await access(path);
      } catch (err) {
        throw new SourceError('CSV_NOT_FOUND', `CSV file "${view.file}" not found (looked at ${path})`, {
          hint: `create the file or fix \`file:\` in the configuration; relative paths are resolved from ${options.baseDir}`,
          cause: err,
          details: { file: path },
        });
      }
      return openCsvTable(path, {
        provenance: { source: 'csv file', file: path },
        removeOnDispose: false,
        label: view.file,
      });
    },
    async close(): Promise<void> {},
  };
  return {
    async open(): Promise<SourceSession> {
      return session;
    },
  };
}
