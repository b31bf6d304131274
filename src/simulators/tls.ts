import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** TLS material for a loopback simulator: a CA (its PEM written to `caFile` for clients) and a server key pair. */
export interface SimulatorTls {
  /** Path of the CA certificate PEM; give it to clients as `caFile`. */
  readonly caFile: string;
  readonly caCert: string;
  readonly key: string;
  readonly cert: string;
}

/**
 * Generates a throw-away CA and a server certificate for 127.0.0.1 / localhost / ::1 (plus `extraHosts`), and writes
 * the CA PEM to `dir/ca.pem`. Clients trust the simulator only through that file, exactly as they would trust an
 * internal CA in production.
 */
export async function createSimulatorTls(dir: string, extraHosts: readonly string[] = []): Promise<SimulatorTls> {
  await mkdir(dir, { recursive: true });
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);
  const ca = await generate([{ name: 'commonName', value: 'tableau-export simulator CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          ...extraHosts.map((value) => ({ type: 2 as const, value })),
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert, { mode: 0o644 });
  return { caFile, caCert: ca.cert, key: server.private, cert: server.cert };
}
