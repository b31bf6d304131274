/**
 * Path templates of a burst into files (`Reports/{Region}/Pipeline {Region}.xlsx`): which placeholders a template
 * names, and the path of one value. Shared by the config rules (checked offline, in `validate`) and the pipeline.
 */
import { safeDriveName, validateDrivePath } from './drive-path.js';

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** The placeholder names of `template`, in order of appearance (`{Region}` → `Region`), duplicates kept once. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
}

/**
 * Problems of a burst path template for the field `by`: it must name `{by}` (else every value would land on the same
 * file) and no other placeholder. Empty when the template is fine.
 */
export function checkBurstTemplate(template: string, by: string): string[] {
  const names = templatePlaceholders(template);
  const problems: string[] = [];
  if (!names.includes(by))
    problems.push(
      `must contain the placeholder {${by}} (the burst field), so each value gets its own file, e.g. "Reports/{${by}}/Pipeline {${by}}.xlsx"`,
    );
  const others = names.filter((n) => n !== by);
  if (others.length > 0)
    problems.push(
      `names ${others.map((n) => `{${n}}`).join(', ')}, which is not the burst field; only {${by}} can be filled in`,
    );
  return problems;
}

/** The path of one burst part: the template with `{by}` replaced, and what is wrong with it (empty when fine). */
export interface BurstPath {
  readonly path: string;
  /** The value as it appears in the path (made safe for OneDrive and Windows). */
  readonly name: string;
  /** True when the value had to be changed to be a valid name (`A/B` → `A_B`). */
  readonly renamed: boolean;
  /** Problems left after the value was made safe (the template's own, or a path over the length limit). */
  readonly errors: readonly string[];
}

/**
 * Fills `{by}` in `template` with `value` made safe by {@link safeDriveName}, and checks the whole path with
 * OneDrive's rules. Pure; never throws.
 */
export function renderBurstPath(template: string, by: string, value: string): BurstPath {
  const name = safeDriveName(value);
  const path = template.split(`{${by}}`).join(name);
  return { path, name, renamed: name !== value, errors: validateDrivePath(path).errors };
}
