import { describe, expect, it } from 'vitest';
import {
  chooseApiVersion,
  compareApiVersions,
  HIGHEST_SUPPORTED_API_VERSION,
  legacyApiVersionForProduct,
  requireApiVersion,
} from './api-version.js';

const server = { serverUrl: 'https://t', productVersion: '2019.1', configuredApiVersion: 'auto' };

describe('api versions', () => {
  it('compares numerically', () => {
    expect(compareApiVersions('3.10', '3.9')).toBeGreaterThan(0);
    expect(compareApiVersions('2.7', '3.1')).toBeLessThan(0);
    expect(compareApiVersions('3.6', '3.6')).toBe(0);
  });

  it('uses min(server, ours) for auto and the configured version otherwise', () => {
    expect(chooseApiVersion('3.10', 'auto')).toBe('3.10');
    expect(chooseApiVersion('9.99', 'auto')).toBe(HIGHEST_SUPPORTED_API_VERSION);
    expect(chooseApiVersion('3.24', '3.19')).toBe('3.19');
  });

  it.each([
    ['10.0.3', '2.3'],
    ['9.3', '2.2'],
    ['9.2.1', '2.1'],
    ['9.1', '2.0'],
    ['9.0', '2.0'],
    ['8.3', undefined],
  ])('maps legacy product %s to API %s', (product, api) => {
    expect(legacyApiVersionForProduct(product)).toBe(api);
  });

  it('names the feature and the version needed', () => {
    expect(() => requireApiVersion('3.5', 'personal access token sign-in', server)).toThrow(
      'personal access token sign-in needs Tableau REST API 3.6 or later, but https://t is used with API 3.5 (product version 2019.1)',
    );
    expect(() => requireApiVersion('3.0', 'Get View by id', { ...server, configuredApiVersion: '3.0' })).toThrow(
      /3\.1 or later.*pinned by tableau.apiVersion/,
    );
    expect(() => requireApiVersion('3.17', 'connected-app (JWT) sign-in', server)).not.toThrow();
  });
});
