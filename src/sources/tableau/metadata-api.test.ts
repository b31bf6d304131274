import { describe, expect, it } from 'vitest';
import { SourceError } from '../../shared/errors.js';
import {
  dashboardSheetsData,
  queryMetadata,
  readDashboards,
  readFreshness,
  workbookFreshnessData,
  type MetadataApi,
} from './metadata-api.js';

const answering = (body: string): MetadataApi & { sent: string[] } => {
  const sent: string[] = [];
  return {
    sent,
    post: (b) => {
      sent.push(b);
      return Promise.resolve(body);
    },
  };
};

const query = {
  query: 'query q($luid: String!) { workbooks(filter: { luid: $luid }) { name } }',
  variables: { luid: 'wb-1' },
  what: 'read it',
};

async function failure(api: MetadataApi): Promise<SourceError> {
  try {
    await queryMetadata(api, query, workbookFreshnessData);
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('queryMetadata', () => {
  it('posts the query with its variables as JSON and returns the data', async () => {
    const api = answering(JSON.stringify({ data: { workbooks: [{ name: 'Sales Pipeline' }] } }));
    const data = await queryMetadata(api, query, workbookFreshnessData);
    expect(data.workbooks[0]?.name).toBe('Sales Pipeline');
    expect(JSON.parse(api.sent[0] ?? '')).toEqual({ query: query.query, variables: { luid: 'wb-1' } });
  });

  it('turns a GraphQL errors array (HTTP 200) into TABLEAU_METADATA_UNAVAILABLE with message and code', async () => {
    const err = await failure(
      answering(
        JSON.stringify({
          data: null,
          errors: [{ message: 'Metadata API is disabled', extensions: { code: 'FEATURE_DISABLED' } }],
        }),
      ),
    );
    expect(err.code).toBe('TABLEAU_METADATA_UNAVAILABLE');
    expect(err.message).toBe('the Tableau Metadata API could not read it: Metadata API is disabled (FEATURE_DISABLED)');
    expect(err.hint).toContain('tsm maintenance metadata-services enable');
  });

  it('does not trust partial data that comes with errors', async () => {
    const err = await failure(
      answering(JSON.stringify({ data: { workbooks: [] }, errors: [{ message: 'Node limit exceeded' }] })),
    );
    expect(err.message).toContain('Node limit exceeded');
  });

  it.each([
    ['an HTML page', '<html><body>Not Found</body></html>', /the answer is not JSON/],
    ['JSON that is not GraphQL', '[1, 2]', /not a GraphQL response/],
    ['data of another shape', JSON.stringify({ data: { workbooks: 'none' } }), /unexpected answer: workbooks:/],
  ])('refuses %s', async (_, body, message) => {
    expect((await failure(answering(body))).message).toMatch(message);
  });

  it('turns an HTTP failure into TABLEAU_METADATA_UNAVAILABLE, keeping the cause', async () => {
    const cause = new SourceError('TABLEAU_NOT_FOUND', 'HTTP 404');
    const err = await failure({ post: () => Promise.reject(cause) });
    expect(err.code).toBe('TABLEAU_METADATA_UNAVAILABLE');
    expect(err.message).toContain('HTTP 404');
    expect(err.cause).toBe(cause);
  });
});

describe('readDashboards', () => {
  it('keeps the order of the sheets and reads an empty or null luid as a hidden sheet', () => {
    const data = dashboardSheetsData.parse({
      workbooks: [
        {
          name: 'Sales Pipeline',
          luid: 'wb',
          dashboards: [
            {
              name: 'Overview',
              luid: 'd1',
              sheets: [
                { name: 'B', luid: 'v-b' },
                { name: 'Hidden', luid: '' },
                { name: 'A', luid: 'v-a' },
                { name: 'Gone', luid: null },
              ],
            },
          ],
        },
      ],
    });
    expect(readDashboards(data)).toEqual([
      {
        name: 'Overview',
        luid: 'd1',
        sheets: [
          { name: 'B', luid: 'v-b' },
          { name: 'Hidden', luid: undefined },
          { name: 'A', luid: 'v-a' },
          { name: 'Gone', luid: undefined },
        ],
      },
    ]);
  });
});

describe('readFreshness', () => {
  const ds = (name: string, fields: Record<string, unknown>): Record<string, unknown> => ({ name, ...fields });
  const read = (embedded: unknown[], upstream: unknown[] = []): ReturnType<typeof readFreshness> =>
    readFreshness(
      workbookFreshnessData.parse({
        workbooks: [{ name: 'Wb', embeddedDatasources: embedded, upstreamDatasources: upstream }],
      }),
      'Wb',
    );

  it('is live when no data source has an extract', () => {
    expect(read([ds('Live', { hasExtracts: false })])).toEqual({ kind: 'live', datasources: ['Live'] });
  });

  it('takes the oldest extract, each dated by its latest full or incremental refresh', () => {
    expect(
      read(
        [ds('Proxy', { hasExtracts: false })],
        [
          ds('Nightly', {
            hasExtracts: true,
            extractLastRefreshTime: '2026-11-30T02:00:00Z',
            extractLastIncrementalUpdateTime: '2026-12-01T02:00:00Z',
          }),
          ds('Weekly', { hasExtracts: true, extractLastRefreshTime: '2026-11-28T02:00:00Z' }),
        ],
      ),
    ).toEqual({ kind: 'extract', refreshedAt: '2026-11-28T02:00:00.000Z', datasource: 'Weekly' });
  });

  it('falls back to the last update time of an extract never refreshed', () => {
    expect(
      read([
        ds('New', { hasExtracts: true, extractLastRefreshTime: null, extractLastUpdateTime: '2026-12-01T00:00:00Z' }),
      ]),
    ).toEqual({
      kind: 'extract',
      refreshedAt: '2026-12-01T00:00:00.000Z',
      datasource: 'New',
    });
  });

  it('is unknown for an extract without any time, or a workbook not indexed yet', () => {
    expect(read([ds('Odd', { hasExtracts: true })])).toEqual({
      kind: 'unknown',
      reason: "the extract of data source 'Odd' has no refresh time",
    });
    expect(readFreshness({ workbooks: [] }, 'Wb')).toEqual({
      kind: 'unknown',
      reason: "workbook 'Wb' is not in the Metadata API yet (indexing may lag)",
    });
  });
});
