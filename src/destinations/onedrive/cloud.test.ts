import { describe, expect, it } from 'vitest';
import { graphDefaultScope, isMicrosoftAuthorityHost, resolveCloud } from './cloud.js';

describe('national clouds', () => {
  it.each([
    ['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com/v1.0'],
    ['usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us/v1.0'],
    ['china', 'https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn/v1.0'],
  ] as const)('%s', (cloud, authorityHost, graphBaseUrl) => {
    expect(resolveCloud(cloud)).toEqual({ authorityHost, graphBaseUrl });
    expect(isMicrosoftAuthorityHost(authorityHost)).toBe(true);
  });

  it('treats other hosts (simulator, custom authorities) as unknown to MSAL', () => {
    expect(isMicrosoftAuthorityHost('https://127.0.0.1:8443')).toBe(false);
    expect(isMicrosoftAuthorityHost('https://login.contoso.test')).toBe(false);
  });

  it('derives the .default scope from the Graph origin', () => {
    expect(graphDefaultScope('https://graph.microsoft.us/v1.0')).toBe('https://graph.microsoft.us/.default');
    expect(graphDefaultScope('https://127.0.0.1:9443/v1.0')).toBe('https://127.0.0.1:9443/.default');
  });
});
