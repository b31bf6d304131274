/**
 * A metric value that may be unavailable. Every division goes through {@link divide}, so a workbook cell holds either
 * a finite number or a text such as `n/a (no won deals)` or `input missing (metrics.spend)` — never NaN, Infinity,
 * or a misleading 0.
 */

export interface Unavailable {
  /** `n/a`: the data cannot give a value (division by zero, no dates); `input missing`: a config input is absent. */
  readonly kind: 'n/a' | 'input missing';
  readonly reason: string;
}

export type Figure = number | Unavailable;

/** A value the data cannot give, with the reason shown in the cell. */
export function notAvailable(reason: string): Unavailable {
  return { kind: 'n/a', reason };
}

/** A value that needs a config input which is not set; `key` names the setting (e.g. `metrics.spend`). */
export function inputMissing(key: string): Unavailable {
  return { kind: 'input missing', reason: key };
}

export function isAvailable(f: Figure): f is number {
  return typeof f === 'number';
}

/** A finite number as a Figure; anything else becomes `n/a (<reason>)`. */
export function finite(value: number, reason = 'not a finite number'): Figure {
  return Number.isFinite(value) ? value : notAvailable(reason);
}

/** `numerator ÷ denominator`, or `n/a (<reasonIfZero>)` when the denominator is 0 (or the result not finite). */
export function divide(numerator: number, denominator: number, reasonIfZero: string): Figure {
  if (denominator === 0 || !Number.isFinite(denominator) || !Number.isFinite(numerator))
    return notAvailable(reasonIfZero);
  return finite(numerator / denominator, reasonIfZero);
}

/** Applies `fn` when every input is available, else passes the first unavailable input on (its reason is kept). */
export function combine(inputs: readonly Figure[], fn: (values: number[]) => Figure): Figure {
  const values: number[] = [];
  for (const f of inputs) {
    if (!isAvailable(f)) return f;
    values.push(f);
  }
  return fn(values);
}

/** Texts of the workbook's language for an unavailable value (from the catalogue's `format.na` and `format.inputMissing`). */
export interface UnavailableTexts {
  na(reason: string): string;
  inputMissing(setting: string): string;
}

const ENGLISH: UnavailableTexts = {
  na: (reason) => `n/a (${reason})`,
  inputMissing: (setting) => `input missing (${setting})`,
};

/** The text shown in a cell for an unavailable value: `n/a (no won deals)`, `input missing (metrics.spend)`. */
export function describeUnavailable(u: Unavailable, texts: UnavailableTexts = ENGLISH): string {
  return u.kind === 'n/a' ? texts.na(u.reason) : texts.inputMissing(u.reason);
}

/** What a workbook cell holds for a Figure. */
export function figureCell(f: Figure, texts: UnavailableTexts = ENGLISH): number | string {
  return isAvailable(f) ? f : describeUnavailable(f, texts);
}
