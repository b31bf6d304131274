/** XML rendering for the Tableau simulator, in the `http://tableau.com/api` namespace, default or `ns0:` form. */
import type { SimView, SimWorkbook } from './sim-content.js';
import { SIM_OWNER_ID } from './sim-content.js';

export type XmlStyle = 'default' | 'ns0';

const CREATED = '2026-01-15T09:30:00Z';
const UPDATED = '2026-11-02T17:45:12Z';

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export interface XmlWriter {
  el(name: string, attrs?: Readonly<Record<string, string | undefined>>, children?: string): string;
  doc(body: string, apiVersion: string): string;
}

/** Builds elements with or without the `ns0:` prefix, so clients are tested against both forms Tableau emits. */
export function createXmlWriter(style: XmlStyle): XmlWriter {
  const p = style === 'ns0' ? 'ns0:' : '';
  const el = (name: string, attrs: Readonly<Record<string, string | undefined>> = {}, children?: string): string => {
    const a = Object.entries(attrs)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
      .join('');
    return children === undefined ? `<${p}${name}${a} />` : `<${p}${name}${a}>${children}</${p}${name}>`;
  };
  const doc = (body: string, apiVersion: string): string => {
    const xsd = `https://help.tableau.com/samples/en-us/rest_api/ts-api_${apiVersion.replace('.', '_')}.xsd`;
    const ns = style === 'ns0' ? 'xmlns:ns0="http://tableau.com/api"' : 'xmlns="http://tableau.com/api"';
    return `<?xml version='1.0' encoding='UTF-8'?>\n<${p}tsResponse ${ns} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://tableau.com/api ${xsd}">${body}</${p}tsResponse>`;
  };
  return { el, doc };
}

export function errorXml(w: XmlWriter, code: string, summary: string, detail: string): string {
  return w.el('error', { code }, `${w.el('summary', {}, escapeXml(summary))}${w.el('detail', {}, escapeXml(detail))}`);
}

export function paginationXml(w: XmlWriter, pageNumber: number, pageSize: number, total: number): string {
  return w.el('pagination', {
    pageNumber: String(pageNumber),
    pageSize: String(pageSize),
    totalAvailable: String(total),
  });
}

export function viewXml(w: XmlWriter, view: SimView, workbook: SimWorkbook): string {
  return w.el(
    'view',
    {
      id: view.id,
      name: view.name,
      contentUrl: view.contentUrl,
      createdAt: CREATED,
      updatedAt: UPDATED,
      sheetType: view.sheetType,
      viewUrlName: view.viewUrlName,
    },
    w.el('workbook', { id: workbook.id }) +
      w.el('owner', { id: SIM_OWNER_ID }) +
      w.el('project', { id: workbook.projectId }) +
      w.el('tags'),
  );
}

export function workbookXml(
  w: XmlWriter,
  workbook: SimWorkbook,
  serverUrl: string,
  site: string,
  withViews: boolean,
): string {
  const views = withViews
    ? w.el(
        'views',
        {},
        workbook.views.map((v) => w.el('view', { id: v.id, name: v.name, contentUrl: v.contentUrl })).join(''),
      )
    : '';
  return w.el(
    'workbook',
    {
      id: workbook.id,
      name: workbook.name,
      contentUrl: workbook.contentUrl,
      webpageUrl: `${serverUrl}/#/${site === '' ? '' : `site/${site}/`}workbooks/${workbook.contentUrl}`,
      showTabs: 'true',
      size: '1',
      createdAt: CREATED,
      updatedAt: UPDATED,
      defaultViewId: workbook.views[0]?.id,
    },
    w.el('project', { id: workbook.projectId, name: workbook.projectName }) +
      w.el('owner', { id: SIM_OWNER_ID }) +
      w.el('tags') +
      views,
  );
}
