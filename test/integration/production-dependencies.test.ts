/**
 * The production install (`npm ci --omit=dev`, the Docker image's last stage) carries no TypeScript loader and no
 * certificate generator: those serve the demo and the simulators only. Checked against the lockfile, which is what
 * `npm ci` installs from: nothing that `tsx`, `esbuild` or `selfsigned` brings may be a production package.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const lockSchema = z.object({
  packages: z.record(z.string(), z.object({ dev: z.boolean().optional(), devOptional: z.boolean().optional() })),
});

describe('production dependencies', () => {
  it('leave out the TypeScript loader, the bundler and the certificate generator', async () => {
    const lock = lockSchema.parse(
      JSON.parse(await readFile(new URL('../../package-lock.json', import.meta.url), 'utf8')),
    );
    const production = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.dev !== true && p.devOptional !== true)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    for (const name of ['tsx', 'esbuild', 'selfsigned', '@esbuild/linux-x64', 'node-forge']) {
      expect(production, name).not.toContain(name);
    }
    // What a run needs is still there.
    for (const name of ['exceljs', 'better-sqlite3', '@azure/msal-node', 'bullmq', 'fastify']) {
      expect(production, name).toContain(name);
    }
  });
});
