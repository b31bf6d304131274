import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorTls } from '../simulators/tls.js';
import { loadCaBundle } from './ca-bundle.js';
import { classifyTransportFailure } from './transport-errors.js';
import { AppError } from './errors.js';

const options = {
  setting: 'tableau.caFile',
  error: (message: string, opts: ConstructorParameters<typeof AppError>[2]) =>
    new AppError('TABLEAU_CA_FILE', message, opts),
};

describe('loadCaBundle', () => {
  let dir: string;
  let caPem: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ca-bundle-'));
    const tls = await createSimulatorTls(join(dir, 'tls'));
    caPem = await readFile(tls.caFile, 'utf8');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the public roots plus every certificate of the file', async () => {
    const file = join(dir, 'two.pem');
    await writeFile(file, `# internal CAs\n${caPem}\n${caPem}`);
    const bundle = await loadCaBundle(file, options);
    expect(bundle).toHaveLength(rootCertificates.length + 2);
    expect(bundle.slice(-1)[0]).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('names the file and the setting when it cannot be read', async () => {
    const file = join(dir, 'missing.pem');
    await expect(loadCaBundle(file, options)).rejects.toMatchObject({
      code: 'TABLEAU_CA_FILE',
      message: expect.stringMatching(/cannot read tableau\.caFile '.*missing\.pem': ENOENT/),
      hint: expect.stringContaining('PEM'),
    });
  });

  it('refuses a file without a PEM certificate (e.g. DER), saying how to convert it', async () => {
    const file = join(dir, 'ca.cer');
    await writeFile(file, Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]));
    await expect(loadCaBundle(file, options)).rejects.toMatchObject({
      message: expect.stringContaining(`tableau.caFile '${file}' is not a PEM certificate file`),
      hint: expect.stringContaining('openssl x509 -inform der'),
    });
  });

  it('refuses a PEM block that is not a certificate', async () => {
    const file = join(dir, 'broken.pem');
    await writeFile(file, `${caPem}\n-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n`);
    await expect(loadCaBundle(file, options)).rejects.toMatchObject({
      message: expect.stringContaining('certificate 2 of 2 is not a valid PEM certificate'),
    });
  });
});

describe('classifyTransportFailure', () => {
  const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });
  it.each([
    [coded('read ECONNRESET', 'ECONNRESET'), 'transient'],
    [coded('getaddrinfo EAI_AGAIN h', 'EAI_AGAIN'), 'transient'],
    [new Error('socket hang up'), 'transient'],
    [new Error('Error: connect ECONNREFUSED 127.0.0.1:1'), 'transient'],
    [coded('certificate is not yet valid', 'CERT_NOT_YET_VALID'), 'tls'],
    [coded('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls'],
    [new Error('unable to verify the first certificate'), 'tls'],
    [coded('Invalid URL', 'ERR_INVALID_URL'), 'permanent'],
    [coded('getaddrinfo ENOTFOUND h', 'ENOTFOUND'), 'permanent'],
    [new Error('something else'), 'permanent'],
    ['a string', 'permanent'],
  ])('%s → %s', (error, kind) => {
    expect(classifyTransportFailure(error)).toBe(kind);
  });
});
