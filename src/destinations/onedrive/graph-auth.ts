/**
 * App-only sign-in to Microsoft Graph with msal-node (client credentials: a secret or a certificate).
 *
 * MSAL caches tokens per ConfidentialClientApplication, so there must be one application per (tenant, client) per
 * process: the composition root creates one GraphAuth with `createGraphAuthRegistry` and shares it between every
 * OneDrive destination of that app registration.
 */
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import { DestinationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { graphDefaultScope, isMicrosoftAuthorityHost } from './cloud.js';
import { loadOneDriveCaBundle } from './https-transport.js';

export type GraphCredential =
  | { readonly clientSecret: string }
  | {
      readonly certificate: {
        /** PEM private key (PKCS#8 or PKCS#1). */
        readonly privateKey: string;
        /** Hex SHA-256 thumbprint of the certificate registered on the app (preferred). */
        readonly thumbprintSha256?: string;
        /** Hex SHA-1 thumbprint (deprecated by Microsoft; used only when no SHA-256 one is given). */
        readonly thumbprint?: string;
        /** Public certificate chain (PEM) to send as `x5c`, for subject-name/issuer authentication. */
        readonly x5c?: string;
      };
    };

export interface GraphAuthOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly credential: GraphCredential;
  /** Authority origin, e.g. `https://login.microsoftonline.com` (see resolveCloud). */
  readonly authorityHost: string;
  /** Graph base URL with version, e.g. `https://graph.microsoft.com/v1.0`; its origin gives the scope. */
  readonly graphBaseUrl: string;
  /** Extra CA (PEM file) for TLS-inspecting proxies or a private authority. */
  readonly caFile?: string | undefined;
}

export interface GraphAuthDeps {
  readonly logger: Logger;
  readonly redactor: Redactor;
}

export interface GraphAuth {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  /**
   * Returns an app-only access token for `{graph origin}/.default`, from MSAL's cache while it is valid for more
   * than 5 minutes. `forceRefresh` skips the cache (after a 401). Throws DestinationError `ONEDRIVE_AUTH_FAILED`
   * (wrong secret/certificate, unknown tenant or client) or `ONEDRIVE_AUTH_UNREACHABLE` (network, TLS).
   */
  getAccessToken(options?: { readonly forceRefresh?: boolean }): Promise<string>;
}

/** Creates the token provider of one app registration. Call once per (tenant, client) per process. */
export function createGraphAuth(options: GraphAuthOptions, deps: GraphAuthDeps): GraphAuth {
  const { tenantId, clientId, credential, authorityHost, graphBaseUrl } = options;
  const scope = graphDefaultScope(graphBaseUrl);
  const authority = `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}`;
  if ('clientSecret' in credential) deps.redactor.addSecret(credential.clientSecret);
  else deps.redactor.addSecret(credential.certificate.privateKey);

  let app: Promise<ConfidentialClientApplication> | undefined;
  const getApp = (): Promise<ConfidentialClientApplication> => {
    app ??= buildApp().catch((error: unknown) => {
      app = undefined;
      throw error;
    });
    return app;
  };

  const buildApp = async (): Promise<ConfidentialClientApplication> => {
    const auth: Configuration['auth'] = {
      clientId,
      authority,
      // MSAL validates non-Microsoft authorities through instance discovery on login.microsoftonline.com, which
      // fails offline and for private authorities; listing the host makes MSAL read its own openid-configuration.
      ...(isMicrosoftAuthorityHost(authorityHost) ? {} : { knownAuthorities: [new URL(authorityHost).host] }),
      ...('clientSecret' in credential
        ? { clientSecret: credential.clientSecret }
        : { clientCertificate: certificateConfig(credential.certificate, clientId) }),
    };
    return new ConfidentialClientApplication({
      auth,
      system: {
        ...(options.caFile === undefined
          ? {}
          : { customAgentOptions: { ca: await loadOneDriveCaBundle(options.caFile) } }),
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) => {
            // MSAL warns about things that are normal for client credentials ("No client info in response").
            if (level === LogLevel.Error) deps.logger.warn({ msal: true }, deps.redactor.redact(message));
            else deps.logger.debug({ msal: true }, deps.redactor.redact(message));
          },
        },
      },
    });
  };

  /** When the token endpoint last answered 429 or 5xx (MSAL then refuses to ask it again for a while). */
  let throttledAt: number | undefined;
  const getAccessToken = async (request: { readonly forceRefresh?: boolean } = {}): Promise<string> => {
    const cca = await getApp();
    let result;
    try {
      result = await cca.acquireTokenByClientCredential({ scopes: [scope], skipCache: request.forceRefresh === true });
    } catch (error) {
      const now = Date.now();
      if (isThrottleStatus(error)) {
        throttledAt = now;
        throw throttledError(error, options, MSAL_THROTTLE_MS);
      }
      if (throttledAt !== undefined && now - throttledAt < MSAL_MAX_THROTTLE_MS && isMsalThrottleRefusal(error))
        // Past MSAL's default wait, the server's Retry-After was longer: ask again every half minute.
        throw throttledError(
          error,
          options,
          throttledAt + MSAL_THROTTLE_MS > now ? throttledAt + MSAL_THROTTLE_MS - now : 30_000,
        );
      throw authError(error, options);
    }
    if (result === null || result.accessToken === '') {
      throw new DestinationError(
        'ONEDRIVE_AUTH_FAILED',
        `no access token returned for client '${clientId}' in tenant '${tenantId}'`,
      );
    }
    // Tokens rotate hourly: transient, so a long-running service does not keep every token it ever had.
    deps.redactor.addSecret(result.accessToken, { transient: true });
    if (!result.fromCache)
      deps.logger.debug({ clientId, tenantId, expiresOn: result.expiresOn }, 'Graph token acquired');
    return result.accessToken;
  };

  return { tenantId, clientId, authorityHost, graphBaseUrl, getAccessToken };
}

function certificateConfig(
  cert: Extract<GraphCredential, { certificate: unknown }>['certificate'],
  clientId: string,
): NonNullable<Configuration['auth']['clientCertificate']> {
  const sha256 = cert.thumbprintSha256?.replace(/:/g, '');
  const sha1 = cert.thumbprint?.replace(/:/g, '');
  if (sha256 === undefined && sha1 === undefined) {
    throw new DestinationError(
      'ONEDRIVE_AUTH_CONFIG',
      `certificate credential for client '${clientId}' has no thumbprint`,
      {
        hint: 'set certificate.thumbprintSha256 (hex SHA-256 of the certificate registered on the app)',
      },
    );
  }
  return {
    privateKey: cert.privateKey,
    ...(sha256 === undefined ? { thumbprint: sha1 ?? '' } : { thumbprintSha256: sha256 }),
    ...(cert.x5c === undefined ? {} : { x5c: cert.x5c }),
  };
}

/**
 * After a 429 or 5xx from the token endpoint, MSAL (ThrottlingUtils) refuses every token request of the app for the
 * Retry-After time (60 s without one, at most an hour), throwing a ServerError with no code and no message. That is
 * a wait, not bad credentials: reported as retryable, so the Graph retry policy waits and asks again.
 */
// MSAL's wait is 60 s and it refuses until strictly after it: ask again a second later.
const MSAL_THROTTLE_MS = 61_000;
const MSAL_MAX_THROTTLE_MS = 3_600_000;

function isThrottleStatus(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

function isMsalThrottleRefusal(error: unknown): boolean {
  const e = error as { name?: unknown; errorCode?: unknown; errorMessage?: unknown; status?: unknown };
  return (
    e.name === 'ServerError' && (e.errorCode ?? '') === '' && (e.errorMessage ?? '') === '' && e.status === undefined
  );
}

function throttledError(error: unknown, options: GraphAuthOptions, retryAfterMs: number): DestinationError {
  const status = (error as { status?: unknown }).status;
  const answered = typeof status === 'number' ? `answered HTTP ${status}` : 'asked to wait (it answered 429 or 5xx)';
  return new DestinationError(
    'ONEDRIVE_AUTH_THROTTLED',
    `the sign-in endpoint ${options.authorityHost} ${answered} for client '${options.clientId}' in tenant '${options.tenantId}'; asking again in ${Math.ceil(retryAfterMs / 1000)} s`,
    {
      cause: error,
      retryable: true,
      hint: 'this is Entra ID throttling or an outage, not bad credentials; the run waits and retries within onedrive.retry',
      details: { retryAfterMs },
    },
  );
}

/** Reads MSAL's error shape (AuthError: errorCode, errorMessage) without trusting it. */
function authError(error: unknown, options: GraphAuthOptions): DestinationError {
  const e = error as { errorCode?: unknown; errorMessage?: unknown; message?: unknown; status?: unknown };
  const code = typeof e.errorCode === 'string' ? e.errorCode : '';
  const raw = typeof e.errorMessage === 'string' && e.errorMessage !== '' ? e.errorMessage : String(e.message ?? error);
  // Entra messages carry timestamps, trace and correlation ids and a help URL; keep the AADSTS sentence.
  const detail = /AADSTS\d+:.*?(?=\s*Trace ID:|\s*Correlation ID:|\s*Timestamp:|$)/s.exec(raw)?.[0] ?? raw;
  const who = `client '${options.clientId}' in tenant '${options.tenantId}' at ${options.authorityHost}`;
  const unreachable =
    code === 'network_error' ||
    code === 'endpoints_resolution_error' ||
    /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|certificate|self[- ]signed/i.test(detail);
  if (unreachable) {
    return new DestinationError(
      'ONEDRIVE_AUTH_UNREACHABLE',
      `cannot reach the sign-in endpoint for ${who}: ${detail.split('\n')[0]}`,
      {
        cause: error,
        retryable: true,
        hint: 'check authorityHost / cloud and network access; behind a TLS-inspecting proxy set onedrive.caFile',
      },
    );
  }
  return new DestinationError(
    'ONEDRIVE_AUTH_FAILED',
    `sign-in failed for ${who}: ${code === '' ? '' : `${code}: `}${detail.split('\n')[0]}`,
    {
      cause: error,
      hint: 'check tenantId, clientId and the client secret (not expired) or the certificate thumbprint registered on the app',
      details: { msalErrorCode: code },
    },
  );
}

/**
 * Keeps one GraphAuth per (authority, tenant, client) so destinations of the same app registration share MSAL's
 * token cache. The composition root owns one registry.
 */
export function createGraphAuthRegistry(deps: GraphAuthDeps): { get(options: GraphAuthOptions): GraphAuth } {
  const byKey = new Map<string, GraphAuth>();
  return {
    get(options) {
      const key = `${options.authorityHost}|${options.tenantId}|${options.clientId}|${options.graphBaseUrl}`;
      let auth = byKey.get(key);
      if (auth === undefined) {
        auth = createGraphAuth(options, deps);
        byKey.set(key, auth);
      }
      return auth;
    },
  };
}
