/** `tableau-export history [EXPORT_ID | RUN_ID]`: the run history, or one run in detail. */
import { UsageError } from '../../shared/errors.js';
import { formatRunDetail, formatRunHistoryTable } from '../../state/history-format.js';
import type { AppContext } from '../app-context.js';
import { EXIT_OK } from '../output.js';

export async function historyCommand(
  ctx: AppContext,
  id: string | undefined,
  options: { limit: number; json: boolean },
): Promise<number> {
  if (!Number.isInteger(options.limit) || options.limit < 1)
    throw new UsageError('--limit must be a positive whole number');
  const store = ctx.store();
  const isExport = id !== undefined && ctx.config.exports.some((e) => e.id === id);
  if (id !== undefined && !isExport) {
    const run = await store.getRun(id);
    if (run === undefined) {
      throw new UsageError(
        `"${id}" is neither an export id nor a run id; exports: ${ctx.config.exports.map((e) => e.id).join(', ')}`,
        { hint: 'run `tableau-export history` to see recent run ids' },
      );
    }
    process.stdout.write(options.json ? `${JSON.stringify(run, null, 2)}\n` : `${formatRunDetail(run)}\n`);
    return EXIT_OK;
  }
  const runs = await store.listRuns({ exportId: id, limit: options.limit });
  if (options.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
  else process.stdout.write(runs.length === 0 ? 'no runs recorded yet\n' : `${formatRunHistoryTable(runs)}\n`);
  return EXIT_OK;
}
