/**
 * Trust for outgoing HTTPS (Tableau and Graph): loading a `caFile` into the CA bundle, and telling a failure that
 * no retry can fix (certificate not trusted, bad URL) from a transient network failure (reset, timeout, DNS retry).
 * Both clients must agree on these, so they live here once.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { AppError, AppErrorOptions } from './errors.js';

export interface CaBundleOptions {
  /** The config key, for messages, e.g. `tableau.caFile`. */
  readonly setting: string;
  /** Builds the caller's error (its own class and code), e.g. SourceError `TABLEAU_CA_FILE`. */
  readonly error: (message: string, options: AppErrorOptions) => AppError;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads `caFile` (one or more PEM certificates) and returns Node's public roots plus those certificates, ready for
 * an https.Agent's `ca` (an agent's `ca` replaces the default roots, so they are included).
 * @throws the error built by `options.error` when the file cannot be read, holds no PEM certificate, or holds one
 *   that does not parse; the message names the file and the setting.
 */
export async function loadCaBundle(caFile: string, options: CaBundleOptions): Promise<string[]> {
  const hint = `point ${options.setting} at a readable PEM file (-----BEGIN CERTIFICATE-----) with your internal or proxy CA certificate`;
  let text: string;
  try {
    text = await readFile(caFile, 'utf8');
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw options.error(`cannot read ${options.setting} '${caFile}': ${reason}`, { cause, hint });
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw options.error(
      `${options.setting} '${caFile}' is not a PEM certificate file: it has no -----BEGIN CERTIFICATE----- block`,
      {
        hint: `${hint}; convert a DER (.cer/.crt) file with \`openssl x509 -inform der -in ca.cer -out ca.pem\``,
      },
    );
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (cause) {
      throw options.error(
        `${options.setting} '${caFile}': certificate ${index + 1} of ${blocks.length} is not a valid PEM certificate`,
        {
          cause,
          hint,
        },
      );
    }
  });
  return [...rootCertificates, ...blocks];
}
