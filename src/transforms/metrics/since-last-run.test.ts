import { describe, expect, it } from 'vitest';
import type { SnapshotHistory } from '../../contracts/snapshot-store.js';
import { metricsConfigSchema } from './config.js';
import type { Deal } from './deal.js';
import { compareWithPreviousRun } from './since-last-run.js';

const config = metricsConfigSchema.parse({ from: 'Opportunities' });
const deal = (id: string, stage: string, amount: number | null): Deal =>
  ({ id, stage, amount, outcome: stage === 'Closed Won' ? 'won' : stage === 'Closed Lost' ? 'lost' : 'open' }) as Deal;

// Runs on 24, 25 and 26 Nov: A moved Lead Generation → Contact on the 26th, B was won on the 25th, C was there on
// the 24th only, D is open since the 24th.
const history: SnapshotHistory = {
  runDates: ['2026-11-24', '2026-11-25', '2026-11-26'],
  states: [
    { dealId: 'A', stage: 'Lead Generation', amount: 100, firstDate: '2026-11-24', lastDate: '2026-11-25' },
    { dealId: 'A', stage: 'Contact', amount: 100, firstDate: '2026-11-26', lastDate: '2026-11-26' },
    { dealId: 'B', stage: 'Proposal', amount: 200, firstDate: '2026-11-24', lastDate: '2026-11-24' },
    { dealId: 'B', stage: 'Closed Won', amount: 200, firstDate: '2026-11-25', lastDate: '2026-11-26' },
    { dealId: 'C', stage: 'Qualification', amount: 50, firstDate: '2026-11-24', lastDate: '2026-11-24' },
    { dealId: 'D', stage: 'Closed Lost', amount: 70, firstDate: '2026-11-24', lastDate: '2026-11-26' },
  ],
};

describe('compareWithPreviousRun', () => {
  const tonight = [deal('A', 'Contact', 100), deal('B', 'Closed Won', 200), deal('D', 'Qualification', 90)];

  it('compares with the latest stored run on or before the previous success', () => {
    const since = compareWithPreviousRun(history, tonight, config, '2026-11-26');
    expect(since).toEqual({
      previousRunDate: '2026-11-26',
      created: { deals: 0, value: 0 },
      won: { deals: 0, value: 0 },
      lost: { deals: 0, value: 0 },
      movedForward: { deals: 0, value: 0 },
      // D was reopened: a lost deal back in Qualification counts as moved back.
      movedBackward: { deals: 1, value: 90 },
      valueAdded: { deals: 1, value: 20 },
      valueRemoved: { deals: 0, value: 0 },
    });
  });

  it('goes back to an older run when the previous success was older (a later run failed)', () => {
    const since = compareWithPreviousRun(history, tonight, config, '2026-11-24');
    expect(since).toMatchObject({
      previousRunDate: '2026-11-24',
      won: { deals: 1, value: 200 },
      movedForward: { deals: 1, value: 100 },
      movedBackward: { deals: 1, value: 90 },
      // C is gone (−50); D rose by 20.
      valueRemoved: { deals: 1, value: 50 },
      valueAdded: { deals: 1, value: 20 },
    });
  });

  it('counts a new deal once, already won or lost included, and a repeated id once', () => {
    const since = compareWithPreviousRun(
      history,
      [...tonight, deal('E', 'Closed Won', 30), deal('E', 'Closed Won', 30), deal('F', 'Lead Generation', null)],
      config,
      '2026-11-26',
    );
    expect(since).toMatchObject({ created: { deals: 2, value: 30 }, won: { deals: 1, value: 30 } });
  });

  it('is null on the first run (nothing stored on or before the date)', () => {
    expect(compareWithPreviousRun({ runDates: [], states: [] }, tonight, config, '2026-11-26')).toBeNull();
    expect(compareWithPreviousRun(history, tonight, config, '2026-11-23')).toBeNull();
  });
});
