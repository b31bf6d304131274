import { createServer, type Server } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorTls } from '../../simulators/tls.js';
import { createHttpsTransport } from './https-transport.js';

let dir: string;
let server: Server;
let url: string;
let caFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'transport-'));
  const tls = await createSimulatorTls(dir);
  caFile = tls.caFile;
  server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const size = Number(new URL(req.url ?? '/', 'https://x').searchParams.get('bytes') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(Buffer.alloc(size, 0x20));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('the Graph transport', () => {
  it('reads an answer up to its cap and refuses one past it without buffering it', async () => {
    const transport = createHttpsTransport({ caFile, maxResponseBytes: 64 * 1024 });
    const small = await transport.request({ method: 'GET', url: `${url}?bytes=1000`, headers: {} });
    expect(small.body.length).toBe(1000);
    await expect(
      transport.request({ method: 'GET', url: `${url}?bytes=${1024 * 1024}`, headers: {} }),
    ).rejects.toMatchObject({
      code: 'ERR_RESPONSE_TOO_LARGE',
    });
  });
});
