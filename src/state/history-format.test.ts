import { describe, expect, it } from 'vitest';
import type { RunReport } from '../contracts/run-report.js';
import { formatBytes, formatDuration, formatRunDetail, formatRunHistoryTable } from './history-format.js';

const base: RunReport = {
  runId: 'r-20260430-0600',
  exportId: 'sales-pipeline-nightly',
  trigger: { kind: 'schedule', scheduledFor: '2026-04-30T10:00:00.000Z' },
  status: 'succeeded',
  startedAt: '2026-04-30T10:00:01.000Z',
  finishedAt: '2026-04-30T10:01:06.000Z',
  durationMs: 65_000,
  sheets: [{ sheet: 'Opportunities', rows: 12_345, source: "view 'Sales Pipeline/Opportunities'" }],
  rows: 12_345,
  bytes: 1_572_864,
  destination: {
    location: 'onedrive:ops@contoso.com/Reports/Sales Pipeline.xlsx',
    webUrl: 'https://contoso-my.sharepoint.com/x',
  },
  warnings: ['2 values in Amount were not numbers'],
  error: undefined,
  timings: { fetch: 40_000, upload: 2_500 },
  dataHash: undefined,
};

describe('formatRunHistoryTable', () => {
  it('renders one aligned line per run with the run facts', () => {
    const failed: RunReport = {
      ...base,
      runId: 'r-2',
      trigger: { kind: 'manual', by: 'alice' },
      status: 'failed',
      startedAt: '2026-04-30T12:00:00.000Z',
      durationMs: 850,
      rows: 0,
      bytes: 0,
      error: { code: 'DESTINATION_LOCKED', message: 'the workbook is open in Excel\nand locked' },
    };
    const skipped: RunReport = { ...base, runId: 'r-3', status: 'skipped', durationMs: 0, rows: 0, bytes: 0 };
    const text = formatRunHistoryTable([failed, base, skipped], { timeZone: 'America/New_York' });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^RUN ID\s+EXPORT\s+TRIGGER\s+STATUS\s+START\s+DURATION\s+ROWS\s+BYTES\s+ERROR \/ NOTE$/);
    expect(lines[1]).toMatch(/^-+ +-+/);
    expect(lines[2]).toMatch(
      /^r-2 .*manual \(alice\)\s+failed\s+2026-04-30 08:00:00\s+850 ms\s+0\s+0 B\s+DESTINATION_LOCKED: the workbook is open in Excel and locked$/,
    );
    expect(lines[3]).toMatch(/schedule\s+succeeded\s+2026-04-30 06:00:01\s+1m 05s\s+12,345\s+1\.5 MB$/);
    expect(lines[4]).toMatch(/skipped .* - +- *$/);
    // Columns line up: every "STATUS" value starts at the same offset.
    const col = (lines[0] ?? '').indexOf('STATUS');
    expect(lines.slice(2).map((l) => l.slice(col, col + 9).trim())).toEqual(['failed', 'succeeded', 'skipped']);
  });

  it('says so when there are no runs', () => {
    expect(formatRunHistoryTable([])).toBe('No runs recorded yet.');
  });

  it('truncates long errors', () => {
    const text = formatRunHistoryTable(
      [{ ...base, status: 'failed', error: { code: 'E', message: 'x'.repeat(200) } }],
      { maxErrorWidth: 30 },
    );
    expect(text.split('\n')[2]).toMatch(/ {2}E: x{26}…$/);
  });
});

describe('the note column and the detail of unchanged and retried runs', () => {
  const unchanged: RunReport = {
    ...base,
    status: 'unchanged',
    note: 'data unchanged since Tue, 28 Apr 2026, 06:00 EDT; the file was not re-uploaded (teammates still have the version of Mon, 27 Apr 2026, 06:00 EDT)',
    destination: { location: 'x', deliveredAt: '2026-04-27T06:00:02.000-04:00' },
  };
  const retried: RunReport = {
    ...base,
    runId: 'sales@manual-1',
    attempt: 2,
    worker: 'host-b:52',
    attempts: [
      {
        attempt: 1,
        attemptId: 'sales@manual-1',
        status: 'failed',
        worker: 'host-a:41',
        startedAt: '2026-04-30T10:00:01.000Z',
        finishedAt: '2026-04-30T10:00:31.000Z',
        error: { code: 'INTERRUPTED', message: 'run interrupted: its worker (host-a:41) stopped' },
      },
      {
        attempt: 2,
        attemptId: 'sales@manual-1#2',
        status: 'succeeded',
        worker: 'host-b:52',
        startedAt: '2026-04-30T10:00:31.000Z',
        finishedAt: '2026-04-30T10:01:06.000Z',
      },
    ],
  };

  it('says in the table what an unchanged run means and that a run was retried', () => {
    const lines = formatRunHistoryTable([unchanged, retried], { timeZone: 'UTC', maxErrorWidth: 300 }).split('\n');
    expect(lines[2]).toMatch(
      /unchanged .*data unchanged since Tue, 28 Apr 2026, 06:00 EDT; the file was not re-uploaded/,
    );
    expect(lines[3]).toMatch(/succeeded .*retried \(attempt 1 interrupted on host-a:41\)$/);
  });

  it('lists the attempts, the note and when the file was delivered', () => {
    const text = formatRunDetail(retried, { timeZone: 'UTC' });
    expect(text).toContain('Worker:      host-b:52');
    expect(text).toContain(
      'Attempts:    1 failed on host-a:41, 2026-04-30 10:00:01 → 2026-04-30 10:00:31 (INTERRUPTED: run interrupted: its worker (host-a:41) stopped)',
    );
    expect(text).toContain('Attempts:    2 succeeded on host-b:52, 2026-04-30 10:00:31 → 2026-04-30 10:01:06');
    const same = formatRunDetail(unchanged, { timeZone: 'America/New_York' });
    expect(same).toContain('Note:        data unchanged since');
    expect(same).toContain('Delivered:   2026-04-27 06:00:02');
  });
});

describe('formatRunDetail', () => {
  it('lists every fact of the run', () => {
    const text = formatRunDetail({ ...base, error: { code: 'E_X', message: 'boom' } }, { timeZone: 'UTC' });
    expect(text).toContain('Run:         r-20260430-0600');
    expect(text).toContain('Started:     2026-04-30 10:00:01');
    expect(text).toContain('Duration:    1m 05s');
    expect(text).toContain('Bytes:       1.5 MB (1,572,864 B)');
    expect(text).toContain('Web URL:     https://contoso-my.sharepoint.com/x');
    expect(text).toContain('Error:       E_X: boom');
    expect(text).toContain("Sheet:       Opportunities: 12,345 rows from view 'Sales Pipeline/Opportunities'");
    expect(text).toContain('Timings:     fetch 40.0 s, upload 2.5 s');
    expect(text).toContain('Warning:     2 values in Amount were not numbers');
  });
});

describe('units', () => {
  it.each([
    [0, '0 ms'],
    [999, '999 ms'],
    [1_500, '1.5 s'],
    [65_000, '1m 05s'],
    [3_725_000, '1h 02m'],
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [5 * 1024 * 1024, '5.0 MB'],
  ])('formatBytes(%d) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});
