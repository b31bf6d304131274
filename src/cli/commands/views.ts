/** `tableau-export views [--site S] [--workbook W]`: browse workbooks, views and sheet types to build a config. */
import { loadConfig } from '../../config/load.js';
import { ConfigError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { createAppContext } from '../app-context.js';
import { EXIT_OK, formatTable } from '../output.js';

export async function viewsCommand(
  file: string,
  options: { site?: string | undefined; workbook?: string | undefined; json: boolean },
  deps: { logger: Logger; redactor: Redactor },
): Promise<number> {
  const loaded = await loadConfig(file);
  const tableau = loaded.config.tableau;
  if (tableau === undefined) {
    throw new ConfigError([
      {
        file: loaded.file,
        line: undefined,
        path: 'tableau',
        message: '`views` needs a "tableau" section (serverUrl, site, auth)',
      },
    ]);
  }
  const config = { ...loaded.config, tableau: { ...tableau, site: options.site ?? tableau.site } };
  const ctx = createAppContext({ ...loaded, config }, deps);
  try {
    const workbooks = await ctx.tableau().listContent({ workbook: options.workbook });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(workbooks, null, 2)}\n`);
      return EXIT_OK;
    }
    const rows = workbooks.flatMap((wb) =>
      wb.views.map((v) => [wb.project ?? '', wb.name, v.name, v.sheetType ?? '', v.contentUrl ?? '', v.id]),
    );
    process.stdout.write(
      rows.length === 0
        ? `no workbooks${options.workbook === undefined ? '' : ` named "${options.workbook}"`} on site "${config.tableau.site}"\n`
        : `${formatTable(['project', 'workbook', 'view', 'type', 'contentUrl', 'id'], rows)}\n`,
    );
    if (rows.some((r) => r[3] === 'dashboard' || r[3] === 'story')) {
      process.stdout.write(
        '\nNote: dashboards and stories export only one worksheet through the REST API; configure their worksheets instead.\n',
      );
    }
    return EXIT_OK;
  } finally {
    await ctx.close();
  }
}
