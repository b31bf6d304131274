/** Milliseconds spent per stage of a run (fetch, parse, write, upload, metrics), summed over the stage's calls. */
export interface StageTimer {
  /** Runs `work`, adding its wall time to `stage`, whether it succeeds or throws. */
  timed<T>(stage: string, work: () => Promise<T>): Promise<T>;
  /** A copy of the timings so far. */
  timings(): Record<string, number>;
}

export function createStageTimer(): StageTimer {
  const totals: Record<string, number> = {};
  return {
    async timed(stage, work) {
      const t0 = performance.now();
      try {
        return await work();
      } finally {
        totals[stage] = (totals[stage] ?? 0) + Math.round(performance.now() - t0);
      }
    },
    timings: () => ({ ...totals }),
  };
}
