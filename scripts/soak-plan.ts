/**
 * The soak's plan, drawn once from a fixed seed before anything starts, so two soaks with the same seed inject the same
 * faults on the same nights: for every night, whether the Tableau data changes, which simulator faults are queued,
 * and whether a worker is killed (SIGKILL) or Redis restarted during it, and after how long.
 */
import type { TableauFault } from '../src/simulators/tableau/index.js';
import type { GraphSimulator } from '../src/simulators/graph/index.js';

/** mulberry32: a small, well-mixed 32-bit PRNG; `next()` is uniform in [0, 1). */
export function createRandom(seed: number): { next(): number; int(min: number, max: number): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

/** One fault of the plan: a label for the report and how to queue it on the simulators. */
export interface PlannedFault {
  readonly label: string;
  readonly apply: (sims: { tableau: { faults: { next(f: TableauFault): void } }; graph: GraphSimulator }) => void;
}

export interface NightPlan {
  readonly night: number;
  /** Data generation the Tableau simulator serves tonight; it changes on the nights whose data changes. */
  readonly generation: number;
  readonly dataChanged: boolean;
  readonly faults: readonly PlannedFault[];
  /** Milliseconds after the night's first trigger at which worker 2 is killed with SIGKILL, if it is tonight. */
  readonly killWorkerAfterMs: number | undefined;
  /** Milliseconds after the night's first trigger at which Redis is restarted, if it is tonight. */
  readonly restartRedisAfterMs: number | undefined;
}

const tableauFault =
  (label: string, fault: TableauFault): ((r: ReturnType<typeof createRandom>) => PlannedFault) =>
  () => ({ label: `tableau ${label}`, apply: (s) => s.tableau.faults.next(fault) });

/** The fault menu: every kind the two simulators can inject, retryable ones and a few that fail a run for good. */
function faultMenu(exportPaths: readonly string[]): ((r: ReturnType<typeof createRandom>) => PlannedFault)[] {
  return [
    tableauFault('429 throttle on data (Retry-After 1)', { kind: 'throttle', retryAfter: '1', on: 'data' }),
    tableauFault('503 unavailable on data', { kind: 'unavailable', on: 'data' }),
    tableauFault('502 HTML page on views', { kind: 'html-error', status: 502, on: 'views' }),
    tableauFault('session expired mid-run (401002)', { kind: 'expire-session', on: 'data' }),
    tableauFault('connection reset on sign-in', { kind: 'reset', on: 'signin' }),
    tableauFault('data body cut half-way', { kind: 'cut-body', on: 'data' }),
    tableauFault('403004 forbidden on data (not retryable)', {
      kind: 'status',
      status: 403,
      code: '403004',
      summary: 'Forbidden',
      on: 'data',
    }),
    () => ({
      label: 'graph 429 on upload (Retry-After 1)',
      apply: (s) => s.graph.faults.throttle({ ops: ['content', 'createUploadSession'], status: 429, retryAfter: '1' }),
    }),
    () => ({
      label: 'graph 503 on any Graph call',
      apply: (s) => s.graph.faults.throttle({ ops: ['graph'], status: 503, retryAfter: '1' }),
    }),
    () => ({
      label: 'graph 503 on the token endpoint',
      apply: (s) => s.graph.faults.add({ ops: ['token'], status: 503, codes: ['temporarily_unavailable'] }),
    }),
    () => ({ label: 'graph access tokens expired (401)', apply: (s) => s.graph.faults.expireTokens() }),
    () => ({
      label: 'graph fragment dropped before store',
      apply: (s) => s.graph.faults.dropFragment({ when: 'before-store' }),
    }),
    () => ({
      label: 'graph fragment dropped after store',
      apply: (s) => s.graph.faults.dropFragment({ when: 'after-store' }),
    }),
    () => ({ label: 'graph 416 on a fragment', apply: (s) => s.graph.faults.rangeError() }),
    () => ({ label: 'graph upload session expired', apply: (s) => s.graph.faults.expireSession() }),
    (r) => {
      // Locked a little shorter or longer than onLocked.retryFor (3 s): the run waits it out, or fails as locked.
      const path = exportPaths[r.int(0, exportPaths.length - 1)] ?? '';
      const forMs = r.int(1_000, 6_000);
      return { label: `graph 423 locked for ${forMs} ms`, apply: (s) => s.graph.faults.lock(path, { forMs }) };
    },
  ];
}

export interface PlanOptions {
  readonly seed: number;
  readonly nights: number;
  /** Drive-relative paths of the exports' files (for the lock fault). */
  readonly exportPaths: readonly string[];
}

/**
 * Draws the plan. Data changes on night 1 (the first delivery) and then with probability 0.6; 0 to 4 faults a night;
 * a worker kill with probability 0.2 and a Redis restart with probability 0.12, each forced once early (nights 3 and
 * 5) when the draw has not placed one yet, so a short soak still sees both.
 */
export function drawPlan(o: PlanOptions): NightPlan[] {
  const r = createRandom(o.seed);
  const menu = faultMenu(o.exportPaths);
  const plan: NightPlan[] = [];
  let generation = 0;
  let killed = false;
  let restarted = false;
  for (let night = 1; night <= o.nights; night++) {
    const dataChanged = night === 1 || r.next() < 0.6;
    if (dataChanged) generation++;
    const faults = Array.from({ length: r.int(0, 4) }, () => {
      const make = menu[r.int(0, menu.length - 1)];
      if (make === undefined) throw new Error('empty fault menu');
      return make(r);
    });
    const kill: boolean = r.next() < 0.2 || (!killed && night === 3);
    const restart: boolean = r.next() < 0.12 || (!restarted && night === 5);
    killed ||= kill;
    restarted ||= restart;
    plan.push({
      night,
      generation,
      dataChanged,
      faults,
      killWorkerAfterMs: kill ? r.int(500, 4_000) : undefined,
      restartRedisAfterMs: restart ? r.int(500, 4_000) : undefined,
    });
  }
  return plan;
}
