/** Where a run is, for progress lines on a terminal and the dashboard. */
export interface RunProgress {
  readonly sheet: string;
  readonly rows: number;
  readonly stage: 'fetch' | 'parse' | 'download' | 'write' | 'upload';
}
