/** The query of Tableau's list endpoints: `pageSize` / `pageNumber` paging and `filter=field:eq:value` expressions. */
import type { SimResponse, TableauReplies } from '../sim-reply.js';

export interface Paging {
  readonly pageSize: number;
  readonly pageNumber: number;
}

/** Paging of a list request (default page 1 of 100); a 400006 for sizes outside 1..1000 or pages below 1. */
export function parsePaging(replies: TableauReplies, query: URLSearchParams, apiVersion: string): Paging | SimResponse {
  const pageSize = Number(query.get('pageSize') ?? '100');
  const pageNumber = Number(query.get('pageNumber') ?? '1');
  if (
    !Number.isInteger(pageSize) ||
    pageSize < 1 ||
    pageSize > 1000 ||
    !Number.isInteger(pageNumber) ||
    pageNumber < 1
  ) {
    return replies.tableauError(400, '400006', 'Bad Request', 'Invalid page size or page number.', apiVersion);
  }
  return { pageSize, pageNumber };
}

/** `field:eq:value[,field:eq:value]` (AND). Only `eq` on the given fields; anything else is a 400 like Tableau. */
export function parseFilter(
  replies: TableauReplies,
  raw: string | null,
  fields: readonly string[],
  apiVersion: string,
): [string, string][] | SimResponse {
  const { tableauError } = replies;
  if (raw === null || raw === '') return [];
  const out: [string, string][] = [];
  for (const expr of raw.split(',')) {
    const m = /^([^:]+):([^:]+):(.*)$/.exec(expr);
    if (m === null)
      return tableauError(400, '400006', 'Bad Request', `Invalid filter expression '${expr}'.`, apiVersion);
    const [, field = '', op = '', value = ''] = m;
    if (!fields.includes(field))
      return tableauError(400, '400065', 'Bad Request', `The filter field '${field}' is not valid.`, apiVersion);
    if (op !== 'eq')
      return tableauError(
        400,
        '400006',
        'Bad Request',
        `The operator '${op}' is not supported by the simulator.`,
        apiVersion,
      );
    out.push([field, value]);
  }
  return out;
}

/** The items of the requested page. */
export function page<T>(items: readonly T[], paging: Paging): T[] {
  return items.slice((paging.pageNumber - 1) * paging.pageSize, paging.pageNumber * paging.pageSize);
}
