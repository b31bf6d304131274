/**
 * Client assertions as Entra ID checks them: a JWT signed with the application's registered certificate (PS256 with
 * `x5t#S256`, or RS256 with `x5t`), for the token endpoint's audience, issued by and about the client, within its
 * validity (5 minutes of clock skew allowed).
 */
import { constants, verify, X509Certificate } from 'node:crypto';

/**
 * Checks `assertion` for `client`; returns undefined when it is valid, else the reason Entra ID would give.
 * `audience` is the token endpoint URL; `nowMs` the current time in epoch milliseconds.
 */
export function verifyClientAssertion(
  client: { readonly clientId: string; readonly certificatePem?: string | undefined },
  assertion: string,
  audience: string,
  nowMs: number,
): string | undefined {
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
  const nowSec = nowMs / 1000;
  if (payload['aud'] !== audience) return `client assertion audience must be ${audience}`;
  if (payload['iss'] !== client.clientId || payload['sub'] !== client.clientId)
    return 'client assertion iss/sub must be the client id';
  if (typeof payload['exp'] !== 'number' || payload['exp'] < nowSec - 300) return 'client assertion has expired';
  if (typeof payload['nbf'] === 'number' && payload['nbf'] > nowSec + 300) return 'client assertion is not yet valid';
  return undefined;
}
