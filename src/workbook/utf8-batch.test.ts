import { describe, expect, it } from 'vitest';
import { createUtf8Batch } from './utf8-batch.js';

/** Adds every piece, collecting what the batch hands back, then what is left: the bytes as a stream would get them. */
function encodeAll(capacity: number, pieces: readonly string[]): { bytes: Buffer; writes: number[] } {
  const batch = createUtf8Batch(capacity);
  const out: Buffer[] = [];
  for (const piece of pieces) out.push(...(batch.add(piece) ?? []));
  const rest = batch.take();
  if (rest !== undefined) out.push(rest);
  return { bytes: Buffer.concat(out), writes: out.map((b) => b.length) };
}

describe('createUtf8Batch', () => {
  it('gives the same bytes as encoding the joined text, in batches no larger than the capacity', () => {
    const pieces = Array.from({ length: 500 }, (_, i) => `<row r="${i}">ünï 日本 😀 ${'x'.repeat(i % 37)}</row>`);
    const { bytes, writes } = encodeAll(1024, pieces);
    expect(bytes.equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
    expect(writes.length).toBeGreaterThan(10);
    expect(Math.max(...writes)).toBeLessThanOrEqual(1024);
  });

  it('passes a piece larger than a batch on by itself, after what was batched', () => {
    const big = 'é'.repeat(2000);
    const { bytes, writes } = encodeAll(1024, ['a', big, 'b']);
    expect(bytes.toString('utf8')).toBe(`a${big}b`);
    expect(writes).toEqual([1, 4000, 1]);
  });

  it('never writes again into a Buffer it handed out', () => {
    const batch = createUtf8Batch(20);
    batch.add('abcd');
    const first = batch.add('efghij')?.[0];
    batch.add('zz');
    expect(first?.toString()).toBe('abcd');
    expect(batch.take()?.toString()).toBe('efghijzz');
    expect(batch.take()).toBeUndefined();
  });
});
