/**
 * The simulator's Entra ID side: authority metadata and the client-credentials token endpoint, checking the client
 * secret or a client assertion signed with the registered certificate (PS256 with x5t#S256, or RS256 with x5t), as
 * Entra ID does. Access tokens are JWT-shaped (so log redaction is exercised on realistic values) and tracked here.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { verifyClientAssertion } from './client-assertion.js';

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

/** What the token endpoint and the authority metadata answer (JSON body). */
type TokenReply = { status: number; body: unknown };

/** Creates the token service of one simulator. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const signingKey = randomBytes(32);
  const tokens = new Map<string, IssuedToken>();
  let issued = 0;

  return {
    openidConfiguration: (tenant) => openidConfiguration(options, tenant),

    issue(tenant, form) {
      const checked = checkTokenRequest(options, tenant, form);
      if (!checked.ok) return checked.reply;
      const { client } = checked;
      const accessToken = mintAccessToken(options, signingKey, client, tenant);
      tokens.set(accessToken, {
        clientId: client.clientId,
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

/** Entra ID's error body: the AADSTS code in `error_codes` and at the start of the description, with trace ids. */
function aadError(
  options: TokenServiceOptions,
  status: number,
  error: string,
  aadsts: number,
  description: string,
): TokenReply {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()}`,
      error_codes: [aadsts],
      timestamp: new Date(options.now()).toISOString(),
    },
  };
}

function tokenEndpoint(options: TokenServiceOptions, tenant: string): string {
  return `${options.origin}/${tenant}/oauth2/v2.0/token`;
}

/** The authority metadata of `tenant` (400 invalid_tenant for another tenant). */
function openidConfiguration(options: TokenServiceOptions, tenant: string): TokenReply {
  if (tenant !== options.tenantId)
    return aadError(options, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
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
}

/**
 * Checks a client-credentials request in Entra ID's order: tenant, grant type, client, its secret or assertion,
 * then the scope (exactly `<graph>/.default`, OpenID scopes aside). Returns the client, or the AADSTS error reply.
 */
function checkTokenRequest(
  options: TokenServiceOptions,
  tenant: string,
  form: URLSearchParams,
): { readonly ok: true; readonly client: SimulatedClient } | { readonly ok: false; readonly reply: TokenReply } {
  const refuse = (status: number, error: string, aadsts: number, description: string) =>
    ({ ok: false, reply: aadError(options, status, error, aadsts, description) }) as const;
  if (tenant !== options.tenantId) return refuse(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
  if (form.get('grant_type') !== 'client_credentials') {
    return refuse(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  }
  const clientId = form.get('client_id') ?? '';
  const client = options.clients.find((c) => c.clientId === clientId);
  if (client === undefined) {
    return refuse(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
    );
  }
  const badCredentials = checkClientCredentials(options, client, form, tenant);
  if (badCredentials !== undefined) return { ok: false, reply: badCredentials };
  const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '' && !ALLOWED_EXTRA_SCOPES.has(s));
  if (scopes.length !== 1 || scopes[0] !== `${options.graphOrigin}/.default`) {
    return refuse(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  return { ok: true, client };
}

/** The error reply when the request's client secret or client assertion does not prove `client`; else undefined. */
function checkClientCredentials(
  options: TokenServiceOptions,
  client: SimulatedClient,
  form: URLSearchParams,
  tenant: string,
): TokenReply | undefined {
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null) {
    if (client.clientSecret === undefined || !sameSecret(secret, client.clientSecret)) {
      return aadError(
        options,
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    }
    return undefined;
  }
  if (assertion !== null) {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return aadError(options, 400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
    }
    const problem = verifyClientAssertion(client, assertion, tokenEndpoint(options, tenant), options.now());
    if (problem !== undefined)
      return aadError(
        options,
        401,
        'invalid_client',
        700027,
        `Client assertion failed signature validation: ${problem}.`,
      );
    return undefined;
  }
  return aadError(
    options,
    401,
    'invalid_client',
    7000218,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  );
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A JWT-shaped access token (HS256 with the service's own key), so log redaction sees realistic values. */
function mintAccessToken(
  options: TokenServiceOptions,
  signingKey: Buffer,
  client: SimulatedClient,
  tenant: string,
): string {
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
}
