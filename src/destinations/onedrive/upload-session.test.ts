import { describe, expect, it } from 'vitest';
import { alignChunkSize, MAX_FRAGMENT_BYTES, UPLOAD_FRAGMENT_UNIT } from './upload-session.js';
import { sitePath } from './onedrive-destination.js';

describe('alignChunkSize', () => {
  it.each([
    [1, UPLOAD_FRAGMENT_UNIT],
    [UPLOAD_FRAGMENT_UNIT, UPLOAD_FRAGMENT_UNIT],
    [400 * 1024, UPLOAD_FRAGMENT_UNIT],
    [10 * 1024 * 1024, 32 * UPLOAD_FRAGMENT_UNIT],
    [60 * 1024 * 1024, 191 * UPLOAD_FRAGMENT_UNIT],
    [1024 ** 3, 191 * UPLOAD_FRAGMENT_UNIT],
  ])('%i bytes → %i', (requested, expected) => {
    const size = alignChunkSize(requested);
    expect(size).toBe(expected);
    expect(size % UPLOAD_FRAGMENT_UNIT).toBe(0);
    expect(size).toBeLessThan(MAX_FRAGMENT_BYTES);
  });
});

describe('sitePath', () => {
  it.each([
    ['contoso.sharepoint.com:/sites/Sales', '/sites/contoso.sharepoint.com:/sites/Sales'],
    ['contoso.sharepoint.com:/sites/Sales Team/', '/sites/contoso.sharepoint.com:/sites/Sales%20Team'],
    ['contoso.sharepoint.com', '/sites/contoso.sharepoint.com'],
  ])('%s → %s', (site, path) => {
    expect(sitePath(site)).toBe(path);
  });

  it('refuses a URL instead of host:/path', () => {
    expect(() => sitePath('https://contoso.sharepoint.com/sites/Sales')).toThrow(expect.objectContaining({ code: 'ONEDRIVE_INVALID_SITE' }));
  });
});
