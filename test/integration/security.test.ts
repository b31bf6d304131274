/**
 * Secrets never leak. The demo-like flow runs with sentinel secrets (PAT secret, client secret, webhook URL, admin
 * token) through `run` (plain and --verbose, with failing exports so the error paths run too) and through `serve`
 * (runs triggered over the admin API, a failure notified to a local webhook). Then every output is searched for
 * the sentinels, for every session token the Tableau simulator issued, for Graph access tokens (JWT-shaped), bearer
 * headers and upload-URL credentials (`tempauth=`): stdout, stderr (the logs), the run history (the SQLite files
 * and `history --json`), the API responses, the webhook payloads and the delivered workbook's XML.
 *
 * The admin API answers 401 without a valid token, and the same 401 whether or not the export or run exists; every
 * refused token is logged with the caller's address (never the token), and ten in a minute earn a 429.
 *
 * The webhook is a local HTTPS server with a self-signed CA, reached through `notify.caFile` and
 * `allowPrivate: true` (it is on 127.0.0.1); without `allowPrivate`, or over plain http, the config is refused.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers/cli.js';
import { createServiceGroup, pollFor, type ServiceProcess } from './helpers/service-process.js';
import { SIM_CLIENT, SIM_PAT, SIM_USER, startSimEnv, type SimEnv } from './helpers/sim-env.js';
import { parseReports, reportOf, sheetRows, xlsxParts } from './helpers/faults-kit.js';
import { createSimulatorTls } from '../../src/simulators/tls.js';

const ADMIN_TOKEN = 'sentinel-admin-token-5e1c9a7f3b2d8c4e';
const HOOK_SECRET = 'sentinel-webhook-path-8c4e2a9f1d';
const HOOK_SIG = 'sentinel-webhook-sig-3f9a0b7e';
const REDIS_PASSWORD = 'sentinel-redis-pw-7d2e4b1a';

interface Output {
  readonly where: string;
  readonly text: string;
}

let sim: SimEnv;
let hook: Server;
let hookUrl: string;
let hookCaFile: string;
const hookBodies: string[] = [];
const outputs: Output[] = [];
const services = createServiceGroup();
let cfg: string;
let env: NodeJS.ProcessEnv;

const record = (where: string, text: string): void => {
  outputs.push({ where, text });
};
const recordCli = (label: string, r: CliResult): void => {
  record(`${label} stdout`, r.stdout);
  record(`${label} stderr`, r.stderr);
};

/** Three exports: the sample (3 views + metrics, through an upload session), a missing view, and an upload that fails. */
function exportsYaml(hookCaFile: string): string {
  const notify = `    notify: { webhookUrlEnv: TEAMS_WEBHOOK_URL, allowPrivate: true, caFile: ${hookCaFile} }\n`;
  const onedrive = (path: string): string => `    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: ${path}
      skipUnchanged: false
      uploadSessionThreshold: 65536
      chunkSize: 327680
      onLocked: { retryFor: 1s, then: fail }
`;
  return `  - id: pipeline
    timezone: America/New_York
    zipLevel: 0
    views:
      - { workbook: Sales Pipeline, view: Opportunities }
      - { workbook: Sales Pipeline, view: Pipeline by Stage }
      - { workbook: Sales Pipeline, view: Rep Performance }
    metrics: { from: Opportunities }
${onedrive('Reports/Sales Pipeline.xlsx')}${notify}  - id: broken-view
    views:
      - { workbook: Sales Pipeline, view: Does Not Exist }
${onedrive('Reports/Broken View.xlsx')}${notify}  - id: broken-upload
    zipLevel: 0
    views:
      - { workbook: Sales Pipeline, view: Opportunities }
${onedrive('Reports/Broken Upload.xlsx')}${notify}`;
}

/** Makes every fragment of the broken-upload export fail, and expires the next Tableau session. */
function armFaults(): void {
  sim.graph.faults.clear();
  sim.graph.faults.add({
    ops: ['uploadFragment'],
    path: 'Reports/Broken Upload.xlsx',
    status: 500,
    codes: ['generalException'],
    message: 'Injected failure',
    times: 1_000,
  });
  sim.tableau.faults.clear();
  sim.tableau.faults.next({ kind: 'expire-session' });
}

beforeAll(async () => {
  sim = await startSimEnv({ rows: 300 });
  const hookTls = await createSimulatorTls(join(sim.dir, 'hook-tls'));
  hookCaFile = hookTls.caFile;
  hook = createServer({ key: hookTls.key, cert: hookTls.cert }, (req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hookBodies.push(`${req.method ?? ''} ${req.url ?? ''}\n${JSON.stringify(req.headers)}\n${body}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('1');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `https://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/${HOOK_SECRET}?sig=${HOOK_SIG}`;
  env = { ...sim.env, TEAMS_WEBHOOK_URL: hookUrl, ADMIN_TOKEN };
  // The 401 test below sends 32 refused tokens from one address on purpose: the backoff has a test of its own.
  cfg = await sim.writeConfig(exportsYaml(hookCaFile), { extraTopLevel: 'server: { failedLogins: { limit: 1000 } }' });
});

afterAll(async () => {
  await services.killAll();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
  await sim.close();
  await rm(sim.dir, { recursive: true, force: true });
});

describe.sequential('secrets stay out of every output', () => {
  it('run (plain and --verbose) with failing exports: reports say what failed without secrets', async () => {
    armFaults();
    const plain = await runCli(['run', 'pipeline', 'broken-view', 'broken-upload', '--config', cfg, '--json'], { env });
    recordCli('run --json', plain);
    expect(plain.code, plain.stderr).toBe(1);
    const reports = parseReports(plain);
    expect(reportOf(reports, 'pipeline').status).toBe('succeeded');
    expect(reportOf(reports, 'broken-view').error?.code).toBe('TABLEAU_VIEW_NOT_FOUND');
    expect(reportOf(reports, 'broken-upload').error?.code).toBe('ONEDRIVE_UPLOAD_FAILED');

    armFaults();
    const verbose = await runCli(['--verbose', 'run', 'pipeline', 'broken-view', 'broken-upload', '--config', cfg], {
      env,
    });
    recordCli('run --verbose', verbose);
    expect(verbose.code, verbose.stderr).toBe(1);
    // Debug logs really are on: the leak check below looks at request-level lines, not just errors.
    expect(verbose.stderr).toMatch(/"level":"debug"|DEBUG/);
    expect(verbose.stdout).toMatch(/broken-upload: failed .*ONEDRIVE_UPLOAD_FAILED/);

    const history = await runCli(['history', '--json', '--limit', '50', '--config', cfg], { env });
    recordCli('history --json', history);
    expect(history.code).toBe(0);
    expect((JSON.parse(history.stdout) as unknown[]).length).toBe(6);
  });

  it('serve: runs over the admin API, notifications, /metrics and the dashboard', async () => {
    const proc: ServiceProcess = await services.spawn(['--verbose', 'serve', '--config', cfg, '--port', '0'], {
      env,
      ready: (l) =>
        typeof l['url'] === 'string' && typeof l.msg === 'string' && l.msg.startsWith('admin server listening on'),
    });
    const api = async (
      method: 'GET' | 'POST',
      path: string,
      token: string | undefined = ADMIN_TOKEN,
    ): Promise<{ status: number; text: string }> => {
      const res = await fetch(`${proc.baseUrl}${path}`, {
        method,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
      const text = await res.text();
      const headers: Record<string, string> = {};
      res.headers.forEach((value, key) => {
        headers[key] = value;
      });
      record(
        `API ${method} ${path} (${token === undefined ? 'no token' : token === ADMIN_TOKEN ? 'admin' : 'wrong token'})`,
        `${res.status}\n${JSON.stringify(headers)}\n${text}`,
      );
      return { status: res.status, text };
    };
    const runToEnd = async (exportId: string): Promise<Record<string, unknown>> => {
      const started = await api('POST', `/api/exports/${exportId}/run`);
      expect(started.status, started.text).toBe(202);
      const { runId } = JSON.parse(started.text) as { runId: string };
      return pollFor(`run ${runId} of ${exportId} to finish`, 60_000, async () => {
        const r = await api('GET', `/api/runs/${encodeURIComponent(runId)}`);
        const run = JSON.parse(r.text) as Record<string, unknown>;
        return run['status'] === 'running' ? undefined : run;
      });
    };
    try {
      armFaults();
      const hooksBefore = hookBodies.length;
      expect((await runToEnd('pipeline'))['status']).toBe('succeeded');
      // The service holds a Graph token now; revoke it so the next upload goes through the 401 → fresh token path.
      sim.graph.faults.expireTokens();
      const unauthorizedBefore = sim.graph.stats.errors.filter((e) => e.status === 401).length;
      expect((await runToEnd('broken-view'))['status']).toBe('failed');
      const upload = await runToEnd('broken-upload');
      expect(upload['status']).toBe('failed');
      expect((upload['error'] as { code?: string } | undefined)?.code).toBe('ONEDRIVE_UPLOAD_FAILED');
      expect(sim.graph.stats.errors.filter((e) => e.status === 401).length).toBeGreaterThan(unauthorizedBefore);
      await pollFor('two failure notifications at the webhook', 20_000, () =>
        hookBodies.length - hooksBefore >= 2 ? true : undefined,
      );
      expect(hookBodies.slice(hooksBefore).join('\n')).toMatch(/broken-view.*failed/);
      // A host that is neither Slack nor Teams gets the plain JSON object.
      expect(hookBodies.slice(hooksBefore).join('\n')).toMatch(/"source":"tableau-export","version":1/);

      const exportsList = await api('GET', '/api/exports');
      expect(exportsList.status).toBe(200);
      expect(exportsList.text).toContain('broken-upload');
      expect((await api('GET', '/api/exports/pipeline/runs?limit=50')).status).toBe(200);
      const metrics = await api('GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/tableau_export_runs_total\{export="pipeline",status="succeeded"\} 1/);
      const page = await api('GET', '/', undefined);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<html/i);
      expect((await api('GET', '/dashboard.js', undefined)).status).toBe(200);
    } finally {
      const exit = await proc.stop();
      record('serve stdout', proc.stdout());
      record('serve stderr', proc.stderr());
      expect(exit.code).toBe(0);
    }
  });

  it('the admin API rejects missing and wrong tokens with 401, the same answer whether the export or run exists', async () => {
    const proc = await services.spawn(['serve', '--config', cfg, '--port', '0'], {
      env,
      ready: (l) =>
        typeof l['url'] === 'string' && typeof l.msg === 'string' && l.msg.startsWith('admin server listening on'),
    });
    try {
      const realRun =
        (
          JSON.parse((await runCli(['history', '--json', '--limit', '1', '--config', cfg], { env })).stdout) as {
            runId: string;
          }[]
        )[0]?.runId ?? '';
      expect(realRun).not.toBe('');
      const ask = async (
        method: 'GET' | 'POST',
        path: string,
        authorization?: string,
      ): Promise<{ status: number; body: string; www: string | null }> => {
        const res = await fetch(`${proc.baseUrl}${path}`, {
          method,
          headers: authorization === undefined ? {} : { authorization },
        });
        const body = await res.text();
        record(`API ${method} ${path} (${authorization ?? 'no header'})`, `${res.status}\n${body}`);
        return { status: res.status, body, www: res.headers.get('www-authenticate') };
      };
      const credentials = [
        undefined,
        'Bearer wrong-token-0123456789abcdef',
        `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
        ADMIN_TOKEN,
        `Bearer ${ADMIN_TOKEN}x`,
      ];
      const pairs: [string, 'GET' | 'POST', string, string][] = [
        ['trigger', 'POST', '/api/exports/pipeline/run', '/api/exports/no-such-export/run'],
        ['runs of an export', 'GET', '/api/exports/pipeline/runs', '/api/exports/no-such-export/runs'],
        ['one run', 'GET', `/api/runs/${encodeURIComponent(realRun)}`, '/api/runs/20000101T000000Z-00000000'],
        ['listing and metrics', 'GET', '/api/exports', '/metrics'],
      ];
      for (const authorization of credentials) {
        for (const [what, method, existing, missing] of pairs) {
          const a = await ask(method, existing, authorization);
          const b = await ask(method, missing, authorization);
          expect(a.status, `${what} ${existing} with ${authorization ?? 'no Authorization'}`).toBe(401);
          expect(b.status, `${what} ${missing} with ${authorization ?? 'no Authorization'}`).toBe(401);
          expect(a.body).toBe(b.body);
          expect(a.www).toMatch(/^Bearer/);
        }
      }
      // A token in the query string is not a credential (it would end up in proxy logs).
      expect((await ask('GET', `/api/exports?token=${ADMIN_TOKEN}`)).status).toBe(401);
      // Nothing was triggered by the refused calls.
      const runs = JSON.parse(
        (await runCli(['history', '--json', '--limit', '50', '--config', cfg], { env })).stdout,
      ) as { runId: string }[];
      expect(runs[0]?.runId).toBe(realRun);
    } finally {
      await proc.stop();
      record('serve (auth) stderr', proc.stderr());
    }
  });

  it('a webhook over http, or on a private address without allowPrivate, is a config error naming the key', async () => {
    const strict = await sim.writeConfig(exportsYaml(hookCaFile).replaceAll(', allowPrivate: true', ''));
    const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
      ['loopback without allowPrivate', env, /points at a loopback address \(127\.0\.0\.1\); set allowPrivate: true/],
      [
        'localhost without allowPrivate',
        { ...env, TEAMS_WEBHOOK_URL: hookUrl.replace('127.0.0.1', 'localhost') },
        /points at localhost/,
      ],
      [
        'plain http',
        { ...env, TEAMS_WEBHOOK_URL: hookUrl.replace('https:', 'http:') },
        /is an http:\/\/ URL; webhooks must use https:\/\//,
      ],
    ];
    for (const [what, caseEnv, message] of cases) {
      for (const args of [
        ['validate', '--config', strict],
        ['run', 'pipeline', '--config', strict],
      ]) {
        const r = await runCli(args, { env: caseEnv });
        recordCli(`${args[0]} (${what})`, r);
        expect(r.code, `${args[0]} with ${what}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(
          /exports\[0\]\.notify\.webhookUrlEnv: the URL in environment variable TEAMS_WEBHOOK_URL/,
        );
        expect(r.stderr).toMatch(message);
      }
    }
    // plain http is refused even with allowPrivate.
    const http = await runCli(['validate', '--config', cfg], {
      env: { ...env, TEAMS_WEBHOOK_URL: hookUrl.replace('https:', 'http:') },
    });
    recordCli('validate (http, allowPrivate)', http);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/webhooks must use https/);
  });

  it('a Redis password in the file is refused in the query string as in the user info, and never echoed', async () => {
    for (const url of [
      `redis://127.0.0.1:1/0?password=${REDIS_PASSWORD}`,
      `redis://:${REDIS_PASSWORD}@127.0.0.1:1/0`,
    ]) {
      const file = await sim.writeConfig(exportsYaml(hookCaFile), { extraTopLevel: `queue: { redis: "${url}" }` });
      for (const args of [
        ['validate', '--config', file],
        ['run', 'pipeline', '--config', file],
      ]) {
        const r = await runCli(args, { env });
        recordCli(`${args[0]} (Redis password in the file)`, r);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/queue\.redis: holds a password \(in the (query string, \?password=|user info)/);
      }
    }
  });

  it('serve refuses a weak admin token at start, naming it and not its value', async () => {
    for (const [tokens, message] of [
      [{ ADMIN_TOKEN: 'k'.repeat(40) }, /the admin token of 'admin' is one character repeated/],
      [{ ADMIN_TOKENS: `ops:${ADMIN_TOKEN} ` }, /the admin token of 'ops' contains whitespace/],
      [{ ADMIN_TOKENS: `ops:${ADMIN_TOKEN}`, ADMIN_TOKEN }, /the admin tokens of 'ops' and 'admin' are the same value/],
      [{ ADMIN_TOKEN: 'abcdefghijklmnopqrstuvw' }, /'admin' is too weak: about 108 bits.*ADMIN_TOKEN_MIN_ENTROPY/],
    ] as const) {
      const r = await runCli(['serve', '--config', cfg, '--port', '0'], {
        env: { ...sim.env, TEAMS_WEBHOOK_URL: hookUrl, ...tokens },
        timeoutMs: 30_000,
      });
      recordCli(`serve (${Object.keys(tokens).join('+')} weak)`, r);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('kkkkkkkk');
      expect(r.stderr).not.toContain('abcdefghijklmnopqrstuvw');
    }
    // The minimum is the operator's to set.
    const lowered = await services.serve(cfg, {
      env: { ...env, ADMIN_TOKEN: 'abcdefghijklmnopqrstuvw', ADMIN_TOKEN_MIN_ENTROPY: '100' },
    });
    const res = await fetch(`${lowered.baseUrl}/api/exports`, {
      headers: { authorization: 'Bearer abcdefghijklmnopqrstuvw' },
    });
    expect(res.status).toBe(200);
    await lowered.stop();
  });

  it('serve logs each refused token with the address, then answers 429 with Retry-After to the next guess (a good token still works)', async () => {
    const backoffCfg = await sim.writeConfig(exportsYaml(hookCaFile));
    const proc = await services.serve(backoffCfg, { env });
    try {
      const call = async (path: string, token: string): Promise<Response> => {
        const res = await fetch(`${proc.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
        record(`API GET ${path} (backoff)`, `${res.status}\n${await res.clone().text()}`);
        return res;
      };
      // A URL the router cannot parse gets the same 401 as any other unauthenticated request.
      const badUrl = await call('/api/runs/%E0%A4%A', 'wrong-token-0123456789abcdef');
      expect(badUrl.status).toBe(401);
      expect(await badUrl.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      const mine = await call('/api/runs/%E0%A4%A', ADMIN_TOKEN);
      expect(mine.status).toBe(400);
      expect(((await mine.json()) as { error: { code: string } }).error.code).toBe('FST_ERR_BAD_URL');
      for (let i = 2; i <= 10; i++)
        expect((await call('/api/exports', `wrong-token-${i}-0123456789abcdef`)).status).toBe(401);
      const blocked = await call('/api/exports', 'wrong-token-11-0123456789abcdef');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_FAILED_LOGINS');
      expect((await fetch(`${proc.baseUrl}/healthz`)).status).toBe(200);
      expect((await call('/api/exports', ADMIN_TOKEN)).status).toBe(200);
    } finally {
      await proc.stop();
      record('serve (backoff) stderr', proc.stderr());
    }
    const failures = proc
      .stderr()
      .split('\n')
      .filter((l) => l.includes('admin API login failed from'));
    expect(failures).toHaveLength(10);
    for (const line of failures)
      expect(JSON.parse(line)).toMatchObject({ remoteAddress: expect.stringMatching(/127\.0\.0\.1/) });
    expect(proc.stderr()).toMatch(/admin API logins from \S*127\.0\.0\.1 refused for 60 s after 10 failures/);
    expect(proc.stderr()).not.toMatch(/wrong-token-/);
  });

  it('no output holds a secret, a Tableau session token, a Graph access token or an upload-URL credential', async () => {
    const stateDir = join(sim.dir, 'state');
    for (const name of ['state.db', 'state.db-wal']) {
      const file = join(stateDir, name);
      if (existsSync(file)) record(`SQLite ${name}`, (await readFile(file)).toString('latin1'));
    }
    const workbook = await sim.graph.readFile(`${SIM_USER}/Reports/Sales Pipeline.xlsx`);
    expect(workbook).toBeDefined();
    expect((await sheetRows(workbook!))['Opportunities']).toBe(300);
    for (const part of xlsxParts(workbook!)) record(`workbook ${part.path}`, part.text);
    hookBodies.forEach((b, i) => record(`webhook payload ${i + 1}`, b.split('\n').slice(2).join('\n')));

    const tokens = sim.tableau.issuedTokens();
    // Sign-ins: two CLI runs (each re-signing once after the injected 401002), and the serve runs.
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    const sentinels: [string, string][] = [
      ['PAT secret', SIM_PAT.secret],
      ['client secret', SIM_CLIENT.secret],
      ['admin token', ADMIN_TOKEN],
      ['webhook URL', hookUrl],
      ['webhook URL path secret', HOOK_SECRET],
      ['webhook URL signature', HOOK_SIG],
      ['Redis password', REDIS_PASSWORD],
      ...tokens.map((t, i): [string, string] => [`Tableau session token #${i + 1}`, t]),
    ];
    const patterns: [string, RegExp][] = [
      ['JWT-shaped token (Graph access token)', /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
      ['bearer credential', /Bearer\s+[A-Za-z0-9._~+/=-]{16,}/],
      ['upload URL credential', /tempauth=/i],
    ];
    const scan = (texts: readonly Output[]): string[] => {
      const leaks: string[] = [];
      for (const o of texts) {
        for (const [name, value] of sentinels) {
          const at = o.text.indexOf(value);
          if (at >= 0)
            leaks.push(`${name} in ${o.where}: …${o.text.slice(Math.max(0, at - 80), at + value.length + 20)}…`);
        }
        for (const [name, re] of patterns) {
          const m = re.exec(o.text);
          if (m !== null)
            leaks.push(`${name} in ${o.where}: …${o.text.slice(Math.max(0, m.index - 80), m.index + 60)}…`);
        }
      }
      return leaks;
    };
    // The scan itself finds what it looks for (a planted line of each kind).
    const planted = [
      `x-tableau-auth: ${tokens[0] ?? ''}`,
      'authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2ln',
      'PUT https://127.0.0.1:1/up/abc?tempauth=xyz',
      `secret=${SIM_CLIENT.secret}`,
    ];
    expect(planted.map((text) => scan([{ where: 'planted', text }]).length)).toEqual([1, 2, 1, 1]);

    const leaks = scan(outputs);
    expect(outputs.length).toBeGreaterThan(40);
    expect(leaks).toEqual([]);
  });
});
