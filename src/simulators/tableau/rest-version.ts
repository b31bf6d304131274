/** REST API versions as Tableau writes them (`major.minor`). */

/** Negative, zero or positive as `a` is below, equal to or above `b` (`3.9` < `3.10`). */
export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}
