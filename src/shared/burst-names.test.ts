import { describe, expect, it } from 'vitest';
import { checkBurstTemplate, renderBurstPath, templatePlaceholders } from './burst-names.js';
import { safeDriveName, validateDrivePath } from './drive-path.js';

describe('safeDriveName', () => {
  it.each([
    ['EMEA', 'EMEA'],
    ['Smith, Jones & Co', 'Smith, Jones & Co'],
    ['A/B', 'A_B'],
    ['back\\slash', 'back_slash'],
    ['What? "Now" <x> | y * z: w', 'What_ _Now_ _x_ _ y _ z_ w'],
    ['trailing dot.', 'trailing dot'],
    ['  spaced  ', 'spaced'],
    ['dots...  ', 'dots'],
    ['CON', 'CON_'],
    ['lpt1.txt', 'lpt1_.txt'],
    ['desktop.ini', 'desktop.ini_'],
    ['my_vti_folder', 'my_vti-folder'],
    ['~$lock', '_~$lock'],
    ['tab\there', 'tab_here'],
    ['...', '_'],
    ['', '_'],
    ['東京', '東京'],
  ])('%j becomes %j', (value, safe) => {
    expect(safeDriveName(value)).toBe(safe);
  });

  it('always gives a name OneDrive accepts', () => {
    for (const value of ['CON', 'a:b', ' . ', '~x', 'x_vti_y', '\u0001', 'nul.xlsx', '?'])
      expect(validateDrivePath(`${safeDriveName(value)}.xlsx`).errors).toEqual([]);
  });
});

describe('burst path templates', () => {
  it('lists placeholders once each', () => {
    expect(templatePlaceholders('Reports/{Region}/Pipeline {Region} {Owner}.xlsx')).toEqual(['Region', 'Owner']);
    expect(templatePlaceholders('Reports/Pipeline.xlsx')).toEqual([]);
  });

  it('needs the burst field and only it', () => {
    expect(checkBurstTemplate('Reports/{Region}/Pipeline {Region}.xlsx', 'Region')).toEqual([]);
    expect(checkBurstTemplate('Reports/Pipeline.xlsx', 'Region')).toEqual([
      expect.stringContaining('must contain the placeholder {Region}'),
    ]);
    expect(checkBurstTemplate('Reports/{region}.xlsx', 'Region')).toEqual([
      expect.stringContaining('must contain the placeholder {Region}'),
      expect.stringContaining('names {region}, which is not the burst field'),
    ]);
  });

  it('fills every occurrence with the safe name, and says when the value was changed', () => {
    expect(renderBurstPath('Reports/{Region}/Pipeline {Region}.xlsx', 'Region', 'EMEA')).toEqual({
      path: 'Reports/EMEA/Pipeline EMEA.xlsx',
      name: 'EMEA',
      renamed: false,
      errors: [],
    });
    const odd = renderBurstPath('Reports/{Owner}/{Owner}.xlsx', 'Owner', 'Mike O/Brien?');
    expect(odd).toMatchObject({ path: 'Reports/Mike O_Brien_/Mike O_Brien_.xlsx', renamed: true, errors: [] });
  });

  it('reports what a safe name cannot fix, such as the path length', () => {
    const long = renderBurstPath('Reports/{Rep}.xlsx', 'Rep', 'x'.repeat(420));
    expect(long.errors).toEqual([expect.stringContaining('OneDrive allows at most 400')]);
  });
});
