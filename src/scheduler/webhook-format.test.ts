import { describe, expect, it } from 'vitest';
import type { RunReport } from '../contracts/run-report.js';
import { escapeSlackText, inferWebhookFormat, renderWebhookBody, type NotificationMessage } from './webhook-format.js';

const HOSTILE = 'Tableau said <!channel> <!here> <@U024BE7LH> see <https://evil.example|your file> & <b>now</b>';

const report: RunReport = {
  runId: 'r2',
  exportId: 'sales',
  trigger: { kind: 'schedule', scheduledFor: '2026-06-02T04:00:00.000Z' },
  status: 'failed',
  startedAt: '2026-06-02T04:00:00.000Z',
  finishedAt: '2026-06-02T04:01:00.000Z',
  durationMs: 60_000,
  sheets: [],
  rows: 0,
  bytes: 0,
  destination: undefined,
  warnings: [],
  error: { code: 'TABLEAU_VIEW_QUERY_FAILED', message: HOSTILE },
  timings: {},
  dataHash: undefined,
};

const message: NotificationMessage = {
  kinds: ['failure'],
  title: 'Export "sales" failed',
  paragraphs: [`❌ Export "sales" failed (run r2, scheduled).\nError: TABLEAU_VIEW_QUERY_FAILED: ${HOSTILE}`],
  links: [
    { label: 'File', url: 'https://contoso-my.sharepoint.com/personal/ops/Sales.xlsx?web=1&a=b|c' },
    { label: 'Run', url: 'https://admin.example/#run=r2' },
  ],
  report,
};

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('inferWebhookFormat', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/xyz', 'slack'],
    ['https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def', 'teams'],
    ['https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x', 'teams'],
    ['https://default1234.56.environment.api.powerplatform.com/powerautomate/automations/direct/x', 'teams'],
    ['https://hooks.slack.com.evil.example/services/x', 'json'],
    ['https://chat.internal.example/hooks/abc', 'json'],
    ['not a url', 'json'],
  ])('%s → %s', (url, format) => {
    expect(inferWebhookFormat(url)).toBe(format);
  });
});

describe('escapeSlackText', () => {
  it('leaves no link, mention or broadcast markup, and keeps the text readable', () => {
    const escaped = escapeSlackText(HOSTILE);
    expect(escaped).not.toMatch(/[<>]/);
    expect(escaped).toBe(
      'Tableau said &lt;!channel&gt; &lt;!here&gt; &lt;@U024BE7LH&gt; see &lt;https://evil.example|your file&gt; &amp; &lt;b&gt;now&lt;/b&gt;',
    );
  });
});

describe('renderWebhookBody', () => {
  it('slack: blocks with a header, escaped sections and our links, plus an escaped text fallback', () => {
    const body = renderWebhookBody(message, 'slack') as {
      text: string;
      blocks: { type: string; text: { type: string; text: string } }[];
    };
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Export "sales" failed', emoji: true },
    });
    expect(body.blocks[1]?.text.type).toBe('mrkdwn');
    expect(body.blocks[1]?.text.text).toContain('&lt;!channel&gt; &lt;!here&gt; &lt;@U024BE7LH&gt;');
    // Our links are the only markup: the URL cannot end the link early or split its label.
    expect(body.blocks[2]?.text.text).toBe(
      '<https://contoso-my.sharepoint.com/personal/ops/Sales.xlsx?web=1&amp;a=b%7Cc|Open the file>  ·  <https://admin.example/#run=r2|Open the run>',
    );
    expect(body.text).toContain('Error: TABLEAU_VIEW_QUERY_FAILED: Tableau said &lt;!channel&gt;');
    expect(body.text).toContain('Run: https://admin.example/#run=r2');
    // Outside our own link section no "<" survives anywhere in the body.
    const mrkdwn = [body.text, ...body.blocks.slice(0, 2).map((b) => b.text.text)];
    for (const t of mrkdwn) expect(t).not.toMatch(/<[!@#]|<https?:/);
  });

  it('slack: keeps sections within 3000 characters without cutting an entity in half', () => {
    const long = { ...message, paragraphs: [`${'x'.repeat(2_996)}<!channel>`] };
    const body = renderWebhookBody(long, 'slack') as { blocks: { text: { text: string } }[] };
    const text = body.blocks[1]?.text.text ?? '';
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/x…$/);
  });

  it('teams: a message with one Adaptive Card; every text a TextRun (no Markdown, no mentions), links as actions', () => {
    const body = renderWebhookBody(message, 'teams') as {
      type: string;
      attachments: { contentType: string; content: Record<string, unknown> }[];
    };
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const card = body.attachments[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const blocks = card.content['body'] as { type: string; inlines: { type: string; text: string }[] }[];
    expect(blocks.map((b) => b.type)).toEqual(['RichTextBlock', 'RichTextBlock']);
    expect(blocks.flatMap((b) => b.inlines.map((i) => i.type))).toEqual(['TextRun', 'TextRun']);
    expect(blocks[0]?.inlines[0]?.text).toBe('Export "sales" failed');
    expect(blocks[1]?.inlines[0]?.text).toContain(HOSTILE);
    expect(card.content['actions']).toEqual([
      { type: 'Action.OpenUrl', title: 'Open the file', url: message.links[0]?.url },
      { type: 'Action.OpenUrl', title: 'Open the run', url: 'https://admin.example/#run=r2' },
    ]);
    // No TextBlock anywhere: TextBlocks read Markdown.
    expect(JSON.stringify(body)).not.toMatch(/"type":"TextBlock"/);
    expect(strings(body).some((s) => s.includes('<at>'))).toBe(false);
  });

  it('json: the documented plain object, texts as they are', () => {
    expect(renderWebhookBody(message, 'json')).toEqual({
      source: 'tableau-export',
      version: 1,
      kinds: ['failure'],
      title: 'Export "sales" failed',
      text: expect.stringContaining(`Error: TABLEAU_VIEW_QUERY_FAILED: ${HOSTILE}`),
      exportId: 'sales',
      runId: 'r2',
      status: 'failed',
      trigger: 'schedule',
      startedAt: '2026-06-02T04:00:00.000Z',
      finishedAt: '2026-06-02T04:01:00.000Z',
      rows: 0,
      error: { code: 'TABLEAU_VIEW_QUERY_FAILED', message: HOSTILE },
      alerts: [],
      fileUrl: message.links[0]?.url,
      runUrl: 'https://admin.example/#run=r2',
    });
  });
});
