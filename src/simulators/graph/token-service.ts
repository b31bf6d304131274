/**
 * The simulator's Entra ID side: authority metadata and the client-credentials token endpoint, checking the client
 * secret or a client assertion signed with the registered certificate (PS256 with x5t#S256, or RS256 with x5t), as
 * Entra ID does. Access tokens are JWT-shaped (so log redaction is exercised on realistic values) and tracked here.
 */
import { constants, createHmac, randomBytes, randomUUID, timingSafeEqual, verify, X509Certificate } from 'node:crypto';

export interface SimulatedClient {
  readonly clientId: string;
  readonly clientSecret?: string | undefined;
  /** PEM certificate whose key signs client assertions. */
  readonly certificatePem?: string | undefined;
  /** Application permissions granted (default Files.ReadWrite.All + Sites.ReadWrite.All); [] → Graph answers 403. */
  readonly roles?: readonly string[] | undefined;
}

export interface IssuedToken {
  readonly clientId: string;
  readonly roles: readonly string[];
  readonly expiresAtMs: number;
  readonly generation: number;
}

export interface TokenService {
  openidConfiguration(tenant: string): { status: number; body: unknown };
  /** Handles a token request (form fields). */
  issue(tenant: string, form: URLSearchParams): { status: number; body: unknown };
  /** Looks up a bearer token; undefined when unknown, expired or revoked. */
  check(token: string): IssuedToken | undefined;
  readonly issuedCount: () => number;
}

export interface TokenServiceOptions {
  readonly origin: string;
  readonly tenantId: string;
  readonly graphOrigin: string;
  readonly clients: readonly SimulatedClient[];
  readonly tokenTtlSeconds: number;
  readonly now: () => number;
  readonly generation: () => number;
}

const DEFAULT_ROLES = ['Files.ReadWrite.All', 'Sites.ReadWrite.All'];
const ALLOWED_EXTRA_SCOPES = new Set(['openid', 'profile', 'offline_access']);

/** Creates the token service of one simulator. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const signingKey = randomBytes(32);
  const tokens = new Map<string, IssuedToken>();
  let issued = 0;
  const tokenEndpoint = (tenant: string): string => `${options.origin}/${tenant}/oauth2/v2.0/token`;

  const aadError = (
    status: number,
    error: string,
    aadsts: number,
    description: string,
  ): { status: number; body: unknown } => ({
    status,
    body: {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()}`,
      error_codes: [aadsts],
      timestamp: new Date(options.now()).toISOString(),
    },
  });

  const knownTenant = (tenant: string): boolean => tenant === options.tenantId;

  const verifyAssertion = (client: SimulatedClient, assertion: string, tenant: string): string | undefined => {
    if (client.certificatePem === undefined) return 'no certificate registered for this application';
    const parts = assertion.split('.');
    if (parts.length !== 3) return 'client assertion is not a JWT';
    const [h = '', p = '', s = ''] = parts;
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return 'client assertion is not valid JSON';
    }
    const cert = new X509Certificate(client.certificatePem);
    const sha256 = Buffer.from(cert.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
    const sha1 = Buffer.from(cert.fingerprint.replace(/:/g, ''), 'hex').toString('base64url');
    if (header['x5t#S256'] !== undefined ? header['x5t#S256'] !== sha256 : header['x5t'] !== sha1) {
      return 'the certificate thumbprint in the assertion does not match a certificate registered on the application';
    }
    const alg = header['alg'];
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    let ok: boolean;
    if (alg === 'PS256') {
      ok = verify(
        'sha256',
        data,
        { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    } else if (alg === 'RS256') {
      ok = verify('sha256', data, cert.publicKey, signature);
    } else {
      return `unsupported assertion algorithm ${String(alg)}`;
    }
    if (!ok) return 'client assertion signature is invalid';
    const nowSec = options.now() / 1000;
    if (payload['aud'] !== tokenEndpoint(tenant)) return `client assertion audience must be ${tokenEndpoint(tenant)}`;
    if (payload['iss'] !== client.clientId || payload['sub'] !== client.clientId)
      return 'client assertion iss/sub must be the client id';
    if (typeof payload['exp'] !== 'number' || payload['exp'] < nowSec - 300) return 'client assertion has expired';
    if (typeof payload['nbf'] === 'number' && payload['nbf'] > nowSec + 300) return 'client assertion is not yet valid';
    return undefined;
  };

  const sameSecret = (a: string, b: string): boolean => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };

  const mint = (client: SimulatedClient, tenant: string): string => {
    const nowSec = Math.floor(options.now() / 1000);
    const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        aud: options.graphOrigin,
        iss: `${options.origin}/${tenant}/`,
        tid: tenant,
        appid: client.clientId,
        roles: client.roles ?? DEFAULT_ROLES,
        iat: nowSec,
        exp: nowSec + options.tokenTtlSeconds,
        jti: randomUUID(),
      }),
    ).toString('base64url');
    const sig = createHmac('sha256', signingKey).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${sig}`;
  };

  return {
    openidConfiguration(tenant) {
      if (!knownTenant(tenant)) return aadError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      const base = `${options.origin}/${tenant}`;
      return {
        status: 200,
        body: {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          issuer: `${base}/v2.0`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          tenant_region_scope: 'EU',
        },
      };
    },

    issue(tenant, form) {
      if (!knownTenant(tenant)) return aadError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
      if (form.get('grant_type') !== 'client_credentials') {
        return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
      }
      const clientId = form.get('client_id') ?? '';
      const client = options.clients.find((c) => c.clientId === clientId);
      if (client === undefined) {
        return aadError(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
        );
      }
      const secret = form.get('client_secret');
      const assertion = form.get('client_assertion');
      if (secret !== null) {
        if (client.clientSecret === undefined || !sameSecret(secret, client.clientSecret)) {
          return aadError(
            401,
            'invalid_client',
            7000215,
            'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
          );
        }
      } else if (assertion !== null) {
        if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
          return aadError(400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
        }
        const problem = verifyAssertion(client, assertion, tenant);
        if (problem !== undefined)
          return aadError(401, 'invalid_client', 700027, `Client assertion failed signature validation: ${problem}.`);
      } else {
        return aadError(
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
      }
      const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '' && !ALLOWED_EXTRA_SCOPES.has(s));
      if (scopes.length !== 1 || scopes[0] !== `${options.graphOrigin}/.default`) {
        return aadError(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      }
      const accessToken = mint(client, tenant);
      tokens.set(accessToken, {
        clientId,
        roles: client.roles ?? DEFAULT_ROLES,
        expiresAtMs: options.now() + options.tokenTtlSeconds * 1000,
        generation: options.generation(),
      });
      issued++;
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: options.tokenTtlSeconds,
          ext_expires_in: options.tokenTtlSeconds,
          access_token: accessToken,
        },
      };
    },

    check(token) {
      const t = tokens.get(token);
      if (t === undefined || t.expiresAtMs <= options.now() || t.generation !== options.generation()) return undefined;
      return t;
    },
    issuedCount: () => issued,
  };
}
