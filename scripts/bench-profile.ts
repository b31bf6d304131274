/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) as plain text: where the time goes by area of the code, the
 * functions with the most self time, and the project's functions with the most total time (self + callees).
 * Used by `npm run bench -- --profile`; also runnable alone: `tsx scripts/bench-profile.ts FILE.cpuprofile`.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

/** Coarse areas, first match wins: what a reader of the bench wants to know the time of. */
const AREAS: readonly (readonly [string, (url: string, fn: string) => boolean])[] = [
  ['garbage collector', (_u, f) => f === '(garbage collector)'],
  ['idle (waiting for I/O)', (_u, f) => f === '(idle)'],
  ['project: CSV parser', (u) => u.includes('/src/sources/csv/')],
  ['project: typing + conversion', (u) => u.includes('/src/transforms/')],
  ['project: workbook writer', (u) => u.includes('/src/workbook/')],
  ['project: pipeline', (u) => u.includes('/src/pipeline/')],
  ['project: other', (u) => u.includes('/src/') && !u.includes('node_modules')],
  ['exceljs', (u) => u.includes('node_modules/exceljs/')],
  [
    'archiver / zip-stream / streams',
    (u) => /node_modules\/(archiver|zip-stream|compress-commons|readable-stream|crc|crc32-stream|lazystream)/.test(u),
  ],
  ['other packages', (u) => u.includes('node_modules/')],
  ['node: zlib', (u) => u.includes('node:zlib') || u.endsWith('zlib.js')],
  [
    'node: streams / fs / events',
    (u) => /node:(internal\/)?(streams?|fs|events)/.test(u) || /internal\/(streams|fs)/.test(u),
  ],
  ['node / V8 (other, incl. native)', () => true],
];

function label(fn: string, url: string, line: number): string {
  const short = url.replace(/^file:\/\//, '').replace(/^.*\/(src|scripts|node_modules)\//, '$1/');
  // Files run through tsx are transformed onto few lines: their line numbers say nothing, so leave them out.
  const where = short === '' ? '' : line > 0 ? `${short}:${line + 1}` : short;
  return `${fn === '' ? '(anonymous)' : fn} ${where}`.trim();
}

/** Renders the summary; `top` functions per list. */
export function summarizeCpuProfile(raw: unknown, top = 20): string {
  const profile = profileSchema.parse(raw);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });

  const selfByFunction = new Map<string, number>();
  const totalByFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = label(functionName, url, lineNumber);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + time);
    const area = AREAS.find(([, match]) => match(url, functionName))?.[0] ?? 'other';
    byArea.set(area, (byArea.get(area) ?? 0) + time);
    // Total time: credit every distinct project function on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined || !frame.url.includes('/src/')) continue;
      const k = label(frame.functionName, frame.url, frame.lineNumber);
      if (seen.has(k)) continue;
      seen.add(k);
      totalByFunction.set(k, (totalByFunction.get(k) ?? 0) + time);
    }
  }

  const share = (t: number): string => `${((100 * t) / Math.max(total, 1)).toFixed(1).padStart(5)} %`;
  const list = (m: ReadonlyMap<string, number>, n: number): string[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `  ${share(t)}  ${(t / 1e6).toFixed(2).padStart(6)} s  ${k}`);
  return [
    `sampled ${(total / 1e6).toFixed(2)} s`,
    'by area (self time):',
    ...list(byArea, AREAS.length),
    `functions by self time (top ${top}):`,
    ...list(selfByFunction, top),
    `project functions by total time (self + callees, top ${top}):`,
    ...list(totalByFunction, top),
  ].join('\n');
}

if (process.argv[1] !== undefined && /bench-profile\.(ts|mjs|js)$/.test(process.argv[1])) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: tsx scripts/bench-profile.ts FILE.cpuprofile\n');
    process.exit(2);
  }
  process.stdout.write(`${summarizeCpuProfile(JSON.parse(await readFile(file, 'utf8')) as unknown)}\n`);
}
