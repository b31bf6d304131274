/**
 * Whole dashboards: a `dashboard:` entry of `views[]` becomes one view per worksheet the dashboard shows, in the
 * dashboard's order, each addressed by its view LUID and landing on a sheet named after the worksheet. Other entries
 * pass through as they are. What the source said about the dashboard (hidden sheets, the Metadata API fallback)
 * travels with its first sheet, so it reaches the run report and the About sheet.
 */
import type { Source, SourceSession } from '../contracts/ports.js';
import type { ViewConfig } from '../config/schema.js';
import { viewSheetName } from '../config/rules.js';
import { SourceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/** One view the run fetches: a configured view, or one worksheet of a configured dashboard. */
export interface PlannedView {
  readonly view: ViewConfig;
  /** Its entry in `views[]`. */
  readonly configIndex: number;
  /** For messages: `view 'Opportunities'`, or `sheet 'Rep Performance' of dashboard 'Pipeline Overview'`. */
  readonly label: string;
  /** Warnings about the dashboard this sheet belongs to (first sheet of a dashboard only). */
  readonly warnings: readonly string[];
}

export interface PlanDeps {
  readonly sourceFor: (view: ViewConfig) => Source;
  readonly sessionFor: (source: Source) => Promise<SourceSession>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * Expands the dashboards among `views` (in place, keeping the configured order).
 * @throws SourceError from the dashboard lookup, or `TABLEAU_VIEW_NOT_FOUND` for a dashboard without any worksheet
 *   that can be exported.
 */
export async function planViews(views: readonly ViewConfig[], deps: PlanDeps): Promise<PlannedView[]> {
  const planned: PlannedView[] = [];
  const taken = new Set(
    views.filter((v) => v.dashboard === undefined).map((v) => viewSheetName(v).toLocaleLowerCase('en-US')),
  );
  for (const [configIndex, view] of views.entries()) {
    if (view.dashboard === undefined) {
      planned.push({ view, configIndex, label: `view '${viewSheetName(view)}'`, warnings: [] });
      continue;
    }
    planned.push(...(await expandDashboard(view, configIndex, taken, deps)));
  }
  return planned;
}

async function expandDashboard(
  view: ViewConfig,
  configIndex: number,
  taken: Set<string>,
  deps: PlanDeps,
): Promise<PlannedView[]> {
  const { dashboard, ...rest } = view;
  if (dashboard === undefined) return [];
  const session = await deps.sessionFor(deps.sourceFor(view));
  if (session.listDashboardSheets === undefined) {
    throw new SourceError('TABLEAU_NOT_A_DASHBOARD', `views[${configIndex}].dashboard needs a Tableau source`, {
      hint: 'dashboards are read from Tableau; a CSV file is one sheet',
    });
  }
  const found = await session.listDashboardSheets(dashboard, { logger: deps.logger, signal: deps.signal });
  const exportable = found.sheets.flatMap((s) => (s.viewId === undefined ? [] : [{ name: s.name, viewId: s.viewId }]));
  if (exportable.length === 0) {
    throw new SourceError(
      'TABLEAU_VIEW_NOT_FOUND',
      `dashboard '${found.dashboard}' of workbook '${found.workbook}' shows no worksheet published as a view; ${found.warnings.join('; ')}`,
      {
        hint: 'publish the worksheets of the dashboard (unhide them in Tableau), or export them one by one with view:',
      },
    );
  }
  deps.logger.info(
    { dashboard: found.dashboard, via: found.via, sheets: exportable.map((s) => s.name) },
    `dashboard '${found.dashboard}': exporting ${exportable.length} worksheet(s)`,
  );
  return exportable.map((s, i) => {
    const sheet = uniqueName(s.name, found.dashboard, taken);
    return {
      view: { ...rest, viewId: s.viewId, sheet },
      configIndex,
      label: `sheet '${s.name}' of dashboard '${found.dashboard}'`,
      warnings: i === 0 ? found.warnings : [],
    };
  });
}

/** The worksheet's name, or `Name (Dashboard)` when another view of the export already has that sheet name. */
function uniqueName(name: string, dashboard: string, taken: Set<string>): string {
  const key = (n: string): string => n.toLocaleLowerCase('en-US');
  let candidate = name;
  for (let n = 1; taken.has(key(candidate)); n++) candidate = n === 1 ? `${name} (${dashboard})` : `${name} (${n})`;
  taken.add(key(candidate));
  return candidate;
}
