/** `tableau-export list`: exports with schedule, time zone, next run (DST-aware) and last status. */
import { nextRun } from '../../shared/cron-schedule.js';
import { isoWithOffset } from '../../shared/time.js';
import { describeDestination, type AppContext } from '../app-context.js';
import { EXIT_OK, formatTable } from '../output.js';

export async function listCommand(ctx: AppContext, options: { json: boolean }): Promise<number> {
  const now = ctx.clock.now();
  const store = ctx.store();
  const rows = await Promise.all(
    ctx.config.exports.map(async (exp) => {
      const tz = ctx.exportTimezone(exp);
      const next = exp.schedule === undefined ? undefined : nextRun(now, exp.schedule, tz);
      const [last] = await store.listRuns({ exportId: exp.id, limit: 1 });
      return {
        id: exp.id,
        schedule: exp.schedule ?? null,
        timezone: tz,
        nextRun: next === undefined ? null : isoWithOffset(next, tz),
        lastStatus: last?.status ?? null,
        lastRunAt: last?.startedAt ?? null,
        destination: describeDestination(exp),
      };
    }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return EXIT_OK;
  }
  process.stdout.write(
    `${formatTable(
      ['export', 'schedule', 'time zone', 'next run', 'last status', 'last run', 'destination'],
      rows.map((r) => [
        r.id,
        r.schedule ?? '(manual)',
        r.timezone,
        r.nextRun ?? '-',
        r.lastStatus ?? '-',
        r.lastRunAt ?? '-',
        r.destination,
      ]),
    )}\n`,
  );
  return EXIT_OK;
}
