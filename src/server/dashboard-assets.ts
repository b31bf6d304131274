/** The dashboard's static files (index.html, dashboard.js, dashboard.css): found, read once, served with a strict CSP. */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../shared/errors.js';

/** Strict Content-Security-Policy for the dashboard: only its own script, style and API. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface DashboardFile {
  readonly body: string;
  readonly type: string;
}

/** The three dashboard files, read into memory. */
export interface Dashboard {
  readonly html: DashboardFile;
  readonly js: DashboardFile;
  readonly css: DashboardFile;
}

/**
 * Reads the dashboard files from `dir`, or by default from next to this module (or from the package's src/server).
 * Throws AppError `DASHBOARD_MISSING` naming the folders tried when none holds index.html.
 */
export function loadDashboard(dir: string | undefined): Dashboard {
  // From src/server (tsx, tests) the files sit next to this module; from dist/server (built), tsc does not copy
  // them, so fall back to the package's src/server/dashboard.
  const candidates =
    dir !== undefined
      ? [dir]
      : [
          fileURLToPath(new URL('./dashboard/', import.meta.url)),
          fileURLToPath(new URL('../../src/server/dashboard/', import.meta.url)),
        ];
  const found = candidates.find((c) => existsSync(join(c, 'index.html')));
  if (found === undefined) {
    throw new AppError(
      'DASHBOARD_MISSING',
      `the dashboard files (index.html, dashboard.js, dashboard.css) are not in ${candidates.join(' or ')}`,
      {
        hint: 'reinstall the package, or copy src/server/dashboard next to the built server module',
      },
    );
  }
  const read = (name: string, type: string): DashboardFile => ({ body: readFileSync(join(found, name), 'utf8'), type });
  return {
    html: read('index.html', 'text/html; charset=utf-8'),
    js: read('dashboard.js', 'text/javascript; charset=utf-8'),
    css: read('dashboard.css', 'text/css; charset=utf-8'),
  };
}

/** Serves the dashboard at `/` and `/index.html`, with its script and style, as public routes. */
export function registerDashboardRoutes(app: FastifyInstance, dashboard: Dashboard): void {
  for (const [path, file] of [
    ['/', dashboard.html],
    ['/index.html', dashboard.html],
    ['/dashboard.js', dashboard.js],
    ['/dashboard.css', dashboard.css],
  ] as const) {
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', file.type)
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-frame-options', 'DENY')
        .send(file.body),
    );
  }
}
