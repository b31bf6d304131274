/**
 * Microsoft national clouds: where to sign in and where Graph lives. Config names a cloud (`global`, `usgov`,
 * `china`) or gives `authorityHost` + `graphBaseUrl` explicitly (proxies, the simulator).
 */
export type GraphCloud = 'global' | 'usgov' | 'china';

export interface CloudEndpoints {
  /** Entra ID authority origin, e.g. `https://login.microsoftonline.com` (no tenant). */
  readonly authorityHost: string;
  /** Graph base URL including the version, e.g. `https://graph.microsoft.com/v1.0`. */
  readonly graphBaseUrl: string;
}

const CLOUDS: Readonly<Record<GraphCloud, CloudEndpoints>> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com/v1.0' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphBaseUrl: 'https://graph.microsoft.us/v1.0' },
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn/v1.0',
  },
};

/**
 * Authority hosts MSAL knows on its own (instance discovery / hard-coded metadata). Any other host (an ADFS-like
 * custom authority, the simulator) must be listed in `knownAuthorities`, or MSAL asks login.microsoftonline.com
 * about it and fails offline.
 */
const MICROSOFT_AUTHORITY_HOSTS: ReadonlySet<string> = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/** Endpoints of a named national cloud. */
export function resolveCloud(cloud: GraphCloud): CloudEndpoints {
  return CLOUDS[cloud];
}

/** True when `authorityHost` (an origin URL) is one of Microsoft's own sign-in hosts. */
export function isMicrosoftAuthorityHost(authorityHost: string): boolean {
  return MICROSOFT_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase());
}

/** The `.default` scope of a Graph deployment: `{origin}/.default` (e.g. `https://graph.microsoft.com/.default`). */
export function graphDefaultScope(graphBaseUrl: string): string {
  return `${new URL(graphBaseUrl).origin}/.default`;
}
