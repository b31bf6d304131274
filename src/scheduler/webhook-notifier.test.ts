import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../contracts/run-report.js';
import { createLogger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import { createSqliteRunStore } from '../state/sqlite-run-store.js';
import {
  composeNotificationText,
  createWebhookNotifier,
  decideNotifications,
  type WebhookPost,
} from './webhook-notifier.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const WEBHOOK = 'https://contoso.webhook.office.com/webhookb2/SECRET-PART-123456/IncomingWebhook/abc';

function run(runId: string, startedAt: string, overrides: Partial<RunReport> = {}): RunReport {
  return {
    runId,
    exportId: 'sales',
    trigger: { kind: 'schedule', scheduledFor: startedAt },
    status: 'succeeded',
    startedAt,
    finishedAt: startedAt,
    durationMs: 1000,
    sheets: [],
    rows: 1000,
    bytes: 5000,
    destination: {
      location: 'onedrive:Reports/Sales.xlsx',
      webUrl: 'https://contoso-my.sharepoint.com/personal/ops/Sales.xlsx',
    },
    warnings: [],
    error: undefined,
    timings: {},
    dataHash: undefined,
    ...overrides,
  };
}

const failure = (runId: string, startedAt: string, code = 'TABLEAU_UNAVAILABLE'): RunReport =>
  run(runId, startedAt, {
    status: 'failed',
    rows: 0,
    bytes: 0,
    destination: undefined,
    error: { code, message: 'Tableau answered 503 for view Opportunities' },
  });

describe('decideNotifications', () => {
  it.each([
    ['a failure', failure('r2', 't2'), run('r1', 't1'), run('r1', 't1'), ['failure']],
    ['a failure after a failure', failure('r2', 't2'), failure('r1', 't1'), undefined, ['failure']],
    ['a success after a success', run('r2', 't2'), run('r1', 't1'), run('r1', 't1'), []],
    ['a first success', run('r1', 't1'), undefined, undefined, []],
    ['a success after a failure', run('r3', 't3'), failure('r2', 't2'), run('r1', 't1'), ['recovery']],
    [
      'an unchanged run after a failure',
      run('r3', 't3', { status: 'unchanged' }),
      failure('r2', 't2'),
      run('r1', 't1'),
      ['recovery'],
    ],
    ['rows falling by more than half', run('r2', 't2', { rows: 400 }), run('r1', 't1'), run('r1', 't1'), ['row-drop']],
    ['rows falling by exactly half', run('r2', 't2', { rows: 500 }), run('r1', 't1'), run('r1', 't1'), []],
    ['rows growing', run('r2', 't2', { rows: 5000 }), run('r1', 't1'), run('r1', 't1'), []],
    [
      'recovery with a row drop',
      run('r3', 't3', { rows: 10 }),
      failure('r2', 't2'),
      run('r1', 't1'),
      ['recovery', 'row-drop'],
    ],
    ['a skipped run', run('r2', 't2', { status: 'skipped' }), failure('r1', 't1'), undefined, []],
    [
      'a run skipped for stale data',
      run('r2', 't2', { status: 'skipped', alerts: ['skipped (stale data): the data is 2d old'] }),
      run('r1', 't1'),
      run('r1', 't1'),
      ['alert'],
    ],
  ])('%s', (_name, report, previous, lastSuccess, expected) => {
    expect(decideNotifications({ report, previous, lastSuccess, rowDropShare: 0.5 })).toEqual(expected);
  });
});

describe('composeNotificationText', () => {
  it('names the export, what happened, the error and the links', () => {
    const report = failure('r2', '2026-06-01T04:00:00.000Z');
    const text = composeNotificationText(
      ['failure'],
      { report, previous: undefined, lastSuccess: run('r1', 't1'), rowDropShare: 0.5 },
      { runUrl: 'https://admin.example/#run=r2' },
    );
    expect(text).toContain('Export "sales" failed (run r2, scheduled for 2026-06-01T04:00:00.000Z)');
    expect(text).toContain('Error: TABLEAU_UNAVAILABLE: Tableau answered 503 for view Opportunities');
    // The failed run has no file: the link is the last good one.
    expect(text).toContain('File: https://contoso-my.sharepoint.com/personal/ops/Sales.xlsx');
    expect(text).toContain('Run: https://admin.example/#run=r2');
    // What teammates still have, in the wall time the delivery was recorded in.
    expect(text).toContain('Teammates still have the workbook of t1 (1,000 rows).');
  });

  it('tells the story of a run retried on another worker under its one run id', () => {
    const report = run('j', '2026-06-01T10:00:30.000Z', {
      attempt: 2,
      attempts: [
        {
          attempt: 1,
          attemptId: 'j',
          status: 'failed',
          worker: 'host-a:41',
          startedAt: '2026-06-01T10:00:00.000Z',
          error: { code: 'INTERRUPTED', message: 'run interrupted: its worker (host-a:41) stopped' },
        },
        {
          attempt: 2,
          attemptId: 'j#2',
          status: 'succeeded',
          worker: 'host-b:52',
          startedAt: '2026-06-01T10:00:30.000Z',
        },
      ],
    });
    const lastSuccess = run('r0', 't0', {
      destination: { location: 'x', deliveredAt: '2026-05-31T06:00:00.000-04:00' },
    });
    const text = composeNotificationText(
      ['recovery'],
      { report, previous: failure('r1', 't1'), lastSuccess, rowDropShare: 0.5 },
      {},
    );
    expect(text).toContain('recovered: run j succeeded');
    expect(text).toContain(
      'Attempts: 1 failed on host-a:41 (INTERRUPTED: run interrupted: its worker (host-a:41) stopped); 2 succeeded on host-b:52.',
    );
    const failed = composeNotificationText(
      ['failure'],
      { report: failure('r2', 't2'), previous: undefined, lastSuccess, rowDropShare: 0.5 },
      {},
    );
    expect(failed).toContain('Teammates still have the workbook of 2026-05-31 06:00 (UTC-04:00) (1,000 rows).');
  });

  it('quantifies a row drop', () => {
    const text = composeNotificationText(
      ['row-drop'],
      {
        report: run('r2', 't2', { rows: 300 }),
        previous: undefined,
        lastSuccess: run('r1', '2026-05-31T04:00:00.000Z'),
        rowDropShare: 0.5,
      },
      {},
    );
    expect(text).toContain(
      'row count dropped by 70% (1,000 rows → 300 rows) against the last success (run r1, 2026-05-31T04:00:00.000Z)',
    );
  });
});

describe('createWebhookNotifier', () => {
  function setup(post?: WebhookPost) {
    const db = new Database(':memory:');
    const store = createSqliteRunStore(db);
    const lines: string[] = [];
    const redactor = createRedactor();
    const logger = createLogger({
      redactor,
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const notifier = createWebhookNotifier({
      history: store,
      logger,
      redactor,
      dashboardUrl: 'https://admin.example/',
      sleep: async () => undefined,
      ...(post === undefined ? {} : { post }),
    });
    return { store, notifier, lines, close: () => db.close() };
  }

  it('posts once for a failure, reading the previous runs from the history', async () => {
    const posts: Array<[string, { text: string }]> = [];
    const { store, notifier, close } = setup(async (target, body) => void posts.push([target.url, body as never]));
    await store.finishRun(run('r1', '2026-06-01T04:00:00.000Z'));
    const failed = failure('r2', '2026-06-02T04:00:00.000Z');
    await store.finishRun(failed);
    await notifier.runFinished(failed, { webhookUrl: WEBHOOK, rowDropShare: 0.5, format: 'json' });
    expect(posts).toHaveLength(1);
    expect(posts[0]?.[0]).toBe(WEBHOOK);
    expect(posts[0]?.[1].text).toMatch(/failed \(run r2/);
    expect(posts[0]?.[1].text).toContain('Run: https://admin.example/#run=r2');

    // Recovery: the next success after it.
    const ok = run('r3', '2026-06-03T04:00:00.000Z');
    await store.finishRun(ok);
    await notifier.runFinished(ok, { webhookUrl: WEBHOOK, rowDropShare: 0.5, format: 'json' });
    expect(posts[1]?.[1].text).toMatch(/recovered: run r3 succeeded after a failed run/);

    // Nothing for a second ordinary success.
    const ok2 = run('r4', '2026-06-04T04:00:00.000Z');
    await store.finishRun(ok2);
    await notifier.runFinished(ok2, { webhookUrl: WEBHOOK, rowDropShare: 0.5 });
    expect(posts).toHaveLength(2);
    close();
  });

  it('ignores runs aborted by a shutdown when deciding on recovery, and compares rows with the previous success', async () => {
    const posts: string[] = [];
    const { store, notifier, close } = setup(async (_target, body) => void posts.push((body as { text: string }).text));
    await store.finishRun(run('r1', '2026-06-01T04:00:00.000Z', { rows: 1000 }));
    await store.finishRun(failure('r2', '2026-06-02T04:00:00.000Z', 'ABORTED'));
    const small = run('r3', '2026-06-03T04:00:00.000Z', { rows: 100 });
    await store.finishRun(small);
    await notifier.runFinished(small, { webhookUrl: WEBHOOK, rowDropShare: 0.5, format: 'json' });
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatch(/dropped by 90% \(1,000 rows → 100 rows\)/);
    expect(posts[0]).not.toMatch(/recovered/);
    close();
  });

  it('posts over https in the format of the host, and logs a failing webhook without its URL, never throwing', async () => {
    const { store, notifier, lines, close } = setup();
    const failed = failure('r9', '2026-06-02T04:00:00.000Z');
    await store.finishRun(failed);

    const ok = nock('https://contoso.webhook.office.com')
      .post(
        '/webhookb2/SECRET-PART-123456/IncomingWebhook/abc',
        // A Teams host: an Adaptive Card message.
        (body: { type?: string; attachments?: { contentType?: string }[] }) =>
          body.type === 'message' && body.attachments?.[0]?.contentType === 'application/vnd.microsoft.card.adaptive',
      )
      .reply(200, '1');
    await notifier.runFinished(failed, { webhookUrl: WEBHOOK, rowDropShare: 0.5 });
    expect(ok.isDone()).toBe(true);

    // 404 is final: one attempt, logged, swallowed.
    const gone = nock('https://contoso.webhook.office.com').post(/.*/).once().reply(404, 'gone');
    await expect(notifier.runFinished(failed, { webhookUrl: WEBHOOK, rowDropShare: 0.5 })).resolves.toBeUndefined();
    expect(gone.isDone()).toBe(true);
    // 503 is retried (3 attempts in all).
    const flaky = nock('https://contoso.webhook.office.com').post(/.*/).times(3).reply(503, 'busy');
    await notifier.runFinished(failed, { webhookUrl: WEBHOOK, rowDropShare: 0.5 });
    expect(flaky.isDone()).toBe(true);

    const log = lines.join('');
    expect(log).toMatch(/webhook notification for export 'sales' failed: the webhook answered HTTP 404/);
    expect(log).toMatch(/the webhook answered HTTP 503/);
    expect(log).not.toContain('SECRET-PART-123456');
    expect(log).not.toContain('webhook.office.com/webhookb2');
    close();
  });

  it('slack: escapes remote texts after redacting them', async () => {
    const bodies: unknown[] = [];
    const { store, close } = setup();
    const failed = run('r5', '2026-06-05T04:00:00.000Z', {
      status: 'failed',
      error: { code: 'TABLEAU_VIEW_QUERY_FAILED', message: 'view said <!channel> with key a&b<secret>tail' },
    });
    await store.finishRun(failed);
    const redactor = createRedactor(['a&b<secret>tail']);
    const notifier = createWebhookNotifier({
      history: store,
      logger: createLogger({ redactor, level: 'silent' }),
      redactor,
      sleep: async () => undefined,
      post: async (_target, body) => void bodies.push(body),
    });
    await notifier.runFinished(failed, { webhookUrl: 'https://hooks.slack.com/services/T0/B0/S', rowDropShare: 0.5 });
    const body = JSON.stringify(bodies[0]);
    expect(body).toContain('"blocks"');
    expect(body).toContain('&lt;!channel&gt;');
    expect(body).not.toContain('<!channel>');
    expect(body).not.toContain('secret');
    expect(body).toContain('[REDACTED]');
    close();
  });

  it('logs a refused target once with its code, never retrying it and never quoting the URL', async () => {
    const { store, lines, close } = setup();
    const failed = failure('r6', '2026-06-06T04:00:00.000Z');
    await store.finishRun(failed);
    const redactor = createRedactor();
    const logger = createLogger({
      redactor,
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    // The default post: it refuses a private literal before any connection (nock would fail a real one).
    const notifier = createWebhookNotifier({
      history: store,
      logger,
      redactor,
      sleep: async () => {
        throw new Error('a refused target must not be retried');
      },
    });
    await notifier.runFinished(failed, { webhookUrl: 'https://10.1.2.3/hooks/PRIVATE-SECRET', rowDropShare: 0.5 });
    const log = lines.join('');
    expect(log).toMatch(
      /webhook notification for export 'sales' failed: the webhook URL points at a private address \(10\.1\.2\.3\); set allowPrivate: true/,
    );
    expect(log).toContain('"code":"WEBHOOK_REFUSED"');
    expect(log).not.toContain('PRIVATE-SECRET');
    close();
  });
});
