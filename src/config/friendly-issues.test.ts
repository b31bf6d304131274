import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.js';
import { closest } from './friendly-issues.js';
import { parseConfigText } from './load.js';

/** The `path: message` of every problem in a config text. */
function problems(text: string): string[] {
  try {
    parseConfigText(text, '/cfg.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

const base = (exportLines: string): string =>
  ['timezone: UTC', 'exports:', '  - id: a', '    views: [ { file: a.csv } ]', exportLines].join('\n');

describe('validate messages', () => {
  it.each([
    ['timezon', 'timezone'],
    ['filtres', 'filters'],
    ['shedule', 'schedule'],
    ['destinaton', 'destination'],
    ['colour', undefined],
  ])('suggests %s → %s', (typo, meant) => {
    expect(closest(typo, ['timezone', 'filters', 'schedule', 'destination', 'stateDir'])).toBe(meant);
  });

  it('names the forms of a union none of which matches, without echoing values', () => {
    const found = problems(
      base('    destination: { type: onedrive, drive: { mail: secret-looking-value }, path: a.xlsx }'),
    );
    expect(found).toContainEqual(
      'exports[0].destination.drive: matches none of its forms ({ user } or { driveId } or { site }); it has: mail; e.g. drive: { user: ops@contoso.com }',
    );
    expect(found.join('\n')).not.toContain('secret-looking-value');
  });

  it('lists the keys allowed where an unknown key is not a near miss', () => {
    expect(problems(base('    destination: { type: local, dir: ./out, colour: blue }'))).toContainEqual(
      expect.stringMatching(
        /^exports\[0\]\.destination\.colour: unknown key "colour"; .*keys allowed here: type, dir, fileName/,
      ),
    );
  });

  it('says which key is missing in a nested section, with an example', () => {
    expect(problems(base('    destination: { type: onedrive, path: a.xlsx }'))).toContainEqual(
      expect.stringMatching(
        /^exports\[0\]\.destination\.drive: missing required key "drive" \(.*\); for example: drive: \{ user: ops@contoso\.com \}$/,
      ),
    );
  });
});
