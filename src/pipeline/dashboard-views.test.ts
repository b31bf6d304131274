import { describe, expect, it } from 'vitest';
import type { DashboardRequest, DashboardSheets, Source, SourceSession } from '../contracts/ports.js';
import { viewSchema, type ViewConfig } from '../config/schema.js';
import { SourceError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import { planViews } from './dashboard-views.js';

const view = (raw: Record<string, unknown>): ViewConfig => viewSchema.parse(raw);

function sourceWith(answer: DashboardSheets | undefined): { source: Source; asked: DashboardRequest[] } {
  const asked: DashboardRequest[] = [];
  const session: SourceSession = {
    fetchView: () => Promise.reject(new Error('not here')),
    close: () => Promise.resolve(),
    ...(answer === undefined
      ? {}
      : {
          listDashboardSheets: (request: DashboardRequest) => {
            asked.push(request);
            return Promise.resolve(answer);
          },
        }),
  };
  return { source: { open: () => Promise.resolve(session) }, asked };
}

async function plan(views: ViewConfig[], answer: DashboardSheets | undefined): Promise<ReturnType<typeof planViews>> {
  const { source } = sourceWith(answer);
  return planViews(views, {
    sourceFor: () => source,
    sessionFor: (s) =>
      s.open({
        logger: createLogger({ level: 'silent', redactor: createRedactor() }),
        signal: new AbortController().signal,
      }),
    logger: createLogger({ level: 'silent', redactor: createRedactor() }),
    signal: new AbortController().signal,
  });
}

const overview: DashboardSheets = {
  workbook: 'Sales Pipeline',
  dashboard: 'Pipeline Overview',
  via: 'metadata',
  sheets: [
    { name: 'Pipeline by Stage', viewId: 'v-stage' },
    { name: 'Stage Targets', viewId: undefined },
    { name: 'Opportunities', viewId: 'v-opps' },
  ],
  warnings: ["'Stage Targets' is hidden"],
};

describe('planViews', () => {
  it("turns a dashboard into its published worksheets, in the dashboard's order, addressed by view id", async () => {
    const planned = await plan(
      [
        view({ dashboard: { workbook: 'Sales Pipeline', name: 'Pipeline Overview' }, filters: { Region: 'EMEA' } }),
        view({ workbook: 'Sales Pipeline', view: 'Rep Performance' }),
      ],
      overview,
    );
    expect(planned.map((p) => [p.view.sheet, p.view.viewId, p.configIndex, p.warnings])).toEqual([
      ['Pipeline by Stage', 'v-stage', 0, ["'Stage Targets' is hidden"]],
      ['Opportunities', 'v-opps', 0, []],
      [undefined, undefined, 1, []],
    ]);
    expect(planned[0]?.view.filters).toEqual({ Region: 'EMEA' });
    expect(planned[0]?.view.dashboard).toBeUndefined();
    expect(planned[1]?.label).toBe("sheet 'Opportunities' of dashboard 'Pipeline Overview'");
  });

  it('renames a worksheet whose sheet name another view of the export already has', async () => {
    const planned = await plan(
      [
        view({ workbook: 'Sales Pipeline', view: 'Opportunities' }),
        view({ dashboard: { contentUrl: 'SalesPipeline/sheets/PipelineOverview' } }),
      ],
      overview,
    );
    expect(planned.map((p) => p.view.sheet)).toEqual([
      undefined,
      'Pipeline by Stage',
      'Opportunities (Pipeline Overview)',
    ]);
  });

  it('fails a dashboard without any published worksheet, and a source that cannot list dashboards', async () => {
    const hiddenOnly = { ...overview, sheets: [{ name: 'Stage Targets', viewId: undefined }] };
    await expect(plan([view({ dashboard: { contentUrl: 'a/sheets/b' } })], hiddenOnly)).rejects.toThrow(
      /shows no worksheet published as a view/,
    );
    const err = await plan([view({ dashboard: { contentUrl: 'a/sheets/b' } })], undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('TABLEAU_NOT_A_DASHBOARD');
  });
});
