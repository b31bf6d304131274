/**
 * One notification, three shapes (`notify.format`): a Teams message with an Adaptive Card, Slack blocks with a text
 * fallback, or a plain JSON object for anything else (README, Notifications, documents its fields).
 *
 * The texts carry what Tableau, Graph and the config said (error messages, view and export names, worker names), so
 * nothing in them may act as markup: for Slack, `& < >` are escaped, which also defuses `<url|label>` links and the
 * `<!channel>`, `<!here>`, `<@U…>` mentions; for Teams, every text is a TextRun, which Adaptive Cards never read as
 * Markdown or mentions. The JSON shape carries the texts as they are: its reader decides how to show them.
 */
import type { RunReport } from '../contracts/run-report.js';

export type WebhookFormat = 'teams' | 'slack' | 'json';

/** Why a notification is sent. */
export type NotificationKind = 'failure' | 'recovery' | 'row-drop' | 'alert';

/** A notification before it takes a format: plain texts, unescaped. */
export interface NotificationMessage {
  readonly kinds: readonly NotificationKind[];
  /** One line, e.g. `Export "sales" failed`. */
  readonly title: string;
  /** Plain-text paragraphs (may span lines). */
  readonly paragraphs: readonly string[];
  readonly links: readonly { readonly label: 'File' | 'Run'; readonly url: string }[];
  readonly report: RunReport;
}

/** The format a URL's host implies when `notify.format` is not set: Slack, Teams (connectors and Workflows), else JSON. */
export function inferWebhookFormat(url: string): WebhookFormat {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'json';
  }
  if (host === 'hooks.slack.com') return 'slack';
  if (['.webhook.office.com', '.logic.azure.com', '.api.powerplatform.com'].some((s) => host.endsWith(s)))
    return 'teams';
  return 'json';
}

/** The text as Slack mrkdwn shows it literally: `&`, `<` and `>` escaped (so no link, mention or `<!channel>`). */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The plain text of a message: paragraphs, then `File: url` and `Run: url`, blank lines between. */
export function renderPlainText(message: NotificationMessage): string {
  return [...message.paragraphs, ...message.links.map((l) => `${l.label}: ${l.url}`)].join('\n\n');
}

/** The request body for `format`. */
export function renderWebhookBody(message: NotificationMessage, format: WebhookFormat): unknown {
  if (format === 'teams') return renderTeams(message);
  if (format === 'slack') return renderSlack(message);
  return renderJson(message);
}

const LINK_TITLES = { File: 'Open the file', Run: 'Open the run' } as const;

function renderTeams(message: NotificationMessage): unknown {
  const run = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextRun', text, ...extra });
  const block = (text: string, extra: Record<string, unknown> = {}, spacing = 'Default') => ({
    type: 'RichTextBlock',
    spacing,
    inlines: [run(text, extra)],
  });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            block(message.title, { weight: 'Bolder', size: 'Medium' }, 'None'),
            ...message.paragraphs.map((p) => block(p)),
          ],
          actions: message.links.map((l) => ({ type: 'Action.OpenUrl', title: LINK_TITLES[l.label], url: l.url })),
        },
      },
    ],
  };
}

/** Slack's limits: a header is 150 characters, a section's text 3000. */
const SLACK_HEADER_MAX = 150;
const SLACK_SECTION_MAX = 3000;

function renderSlack(message: NotificationMessage): unknown {
  const section = (text: string) => ({
    type: 'section',
    text: {
      type: 'mrkdwn',
      // Cut without leaving half an entity (`&am…`) behind.
      text:
        text.length <= SLACK_SECTION_MAX ? text : `${text.slice(0, SLACK_SECTION_MAX - 1).replace(/&[a-z]*$/, '')}…`,
    },
  });
  const links = message.links.map((l) => `<${slackLinkUrl(l.url)}|${LINK_TITLES[l.label]}>`).join('  ·  ');
  return {
    // The fallback shown in notifications and by clients without blocks; mrkdwn too, so escaped the same way.
    text: escapeSlackText(renderPlainText(message)),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(message.title, SLACK_HEADER_MAX), emoji: true } },
      ...message.paragraphs.map((p) => section(escapeSlackText(p))),
      ...(links === '' ? [] : [section(links)]),
    ],
  };
}

/** A URL inside `<url|label>`: the characters that would end or split the link are percent-encoded. */
function slackLinkUrl(url: string): string {
  return url.replace(/[|<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/&/g, '&amp;');
}

function renderJson(message: NotificationMessage): unknown {
  const r = message.report;
  const link = (label: 'File' | 'Run'): string | null => message.links.find((l) => l.label === label)?.url ?? null;
  return {
    source: 'tableau-export',
    version: 1,
    kinds: message.kinds,
    title: message.title,
    text: renderPlainText(message),
    exportId: r.exportId,
    runId: r.runId,
    status: r.status,
    trigger: r.trigger.kind,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt ?? null,
    rows: r.rows,
    error: r.error === undefined ? null : { code: r.error.code, message: r.error.message },
    alerts: r.alerts ?? [],
    fileUrl: link('File'),
    runUrl: link('Run'),
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
