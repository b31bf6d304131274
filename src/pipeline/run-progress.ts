/** Where a run is, for progress lines on a terminal and the dashboard (the type lives in contracts/). */
export type { RunProgress } from '../contracts/run-progress.js';
