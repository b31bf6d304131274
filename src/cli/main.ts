#!/usr/bin/env node
/**
 * `tableau-export`: the command line. Parses arguments, builds the app context, calls one command, and maps
 * errors to exit codes (0 ok, 1 a run failed, 2 usage or config error). Commands hold no logic of their own.
 */
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import { UsageError } from '../shared/errors.js';
import type * as DemoModule from './commands/demo.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import { createAppContext, secretValues, TOOL_VERSION, type AppContext } from './app-context.js';
import type { Config } from '../config/schema.js';
import type { RunStore } from '../contracts/run-store.js';
import { createProgress, EXIT_USAGE, reportError } from './output.js';
import { createTerminalLogger } from './terminal-log.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { listCommand } from './commands/list.js';
// serve, worker, demo and views load their heavier modules (fastify, bullmq, simulators) only when used.
import { historyCommand } from './commands/history.js';

interface GlobalOptions {
  config?: string;
  verbose?: boolean;
}

const redactor = createRedactor();

function makeLogger(verbose: boolean, level: string): Logger {
  return createLogger({
    redactor,
    level: verbose ? 'debug' : (process.env['LOG_LEVEL'] ?? level),
    pretty: process.stderr.isTTY === true,
  });
}

async function withContext<T>(
  opts: GlobalOptions,
  level: string,
  fn: (ctx: AppContext) => Promise<T>,
  customLogger?: Logger,
): Promise<T> {
  const loaded = await loadConfig(resolveConfigPath(opts.config));
  const logger = customLogger ?? makeLogger(opts.verbose === true, level);
  // The redactor learns the secrets (the Redis URL and its passwords among them) before Redis can log an error.
  for (const s of secretValues(loaded.config, process.env)) redactor.addSecret(s);
  // In queue mode the run history is the fleet's, in Redis; otherwise SQLite under stateDir.
  const shared = loaded.config.queue === undefined ? undefined : await openFleetHistory(loaded.config, logger);
  const ctx = createAppContext(loaded, { logger, redactor, ...(shared === undefined ? {} : { store: shared.store }) });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
    await shared?.close();
  }
}

async function openFleetHistory(
  config: Config,
  logger: Logger,
): Promise<{ store: RunStore; close: () => Promise<void> }> {
  const { createRedisConnection, resolveRedisUrl } = await import('../scheduler/queue/redis-connection.js');
  const { createRedisRunStore } = await import('../state/redis-run-store.js');
  const queue = config.queue;
  if (queue === undefined) throw new Error('no queue section');
  const url = resolveRedisUrl(queue, process.env);
  const redis = createRedisConnection(url, 'client', (err) =>
    logger.warn({ err: err.message }, 'redis connection error'),
  );
  return {
    store: createRedisRunStore(redis, queue.prefix),
    close: async () => void (await redis.quit().catch(() => undefined)),
  };
}

/** Aborts on the first SIGINT/SIGTERM so runs clean up (temp files, upload sessions) before exiting. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = (sig: string): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: stopping after cleanup (press again to force)\n`);
    controller.abort(new Error(`${sig} received`));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return controller.signal;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('tableau-export')
    .description(
      'Export Tableau sales-pipeline views to Excel workbooks with pipeline metrics, delivered to OneDrive/SharePoint or a folder.',
    )
    .version(TOOL_VERSION)
    .option('-c, --config <file>', 'config file (default: $TABLEAU_EXPORT_CONFIG or config/exports.yaml)')
    .option('-v, --verbose', 'debug logs and stack traces')
    .showHelpAfterError()
    .exitOverride();
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  addOneShotCommands(program, g, setExit);
  addServiceCommands(program, g, setExit);
  return program;
}

/** Commands that do one thing and exit: run, validate, list, views, history. */
function addOneShotCommands(program: Command, g: () => GlobalOptions, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('run exports now; exit 0 all ok, 1 a run failed, 2 usage/config error')
    .argument('[exportIds...]', 'export ids to run')
    .option('--all', 'run every export')
    .option('--failed', 'run the exports whose last run failed')
    .option('--dry-run', 'fetch and build the workbook, but do not deliver it')
    .option('--json', 'print one JSON run report per export')
    .action(async (ids: string[], o: { all?: boolean; failed?: boolean; dryRun?: boolean; json?: boolean }) => {
      const signal = interruptSignal();
      const progress = createProgress();
      const json = o.json === true;
      // On a terminal, log lines share stderr with the progress line; the run's failure is said once, by its
      // ✗ summary, when that summary reaches the same terminal.
      const logger =
        process.stderr.isTTY === true
          ? await createTerminalLogger({
              redactor,
              level: g().verbose === true ? 'debug' : (process.env['LOG_LEVEL'] ?? 'warn'),
              progress,
              dropRunFailure: !json && process.stdout.isTTY === true,
            })
          : undefined;
      const options = { all: o.all === true, failed: o.failed === true, dryRun: o.dryRun === true, json };
      setExit(await withContext(g(), 'warn', (ctx) => runCommand(ctx, ids, options, signal, progress), logger));
    });

  program
    .command('validate')
    .description(
      'check the config and report every problem at once (exit 2); --online also signs in and resolves views and drives',
    )
    .option('--online', 'sign in to Tableau and Microsoft Graph and resolve every view and drive')
    .action(async (o: { online?: boolean }) => {
      setExit(
        await validateCommand(resolveConfigPath(g().config), {
          online: o.online === true,
          logger: makeLogger(g().verbose === true, 'warn'),
        }),
      );
    });

  program
    .command('list')
    .description('list exports with schedule, time zone, next run and last status')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      setExit(await withContext(g(), 'warn', (ctx) => listCommand(ctx, { json: o.json === true })));
    });

  program
    .command('views')
    .description('browse Tableau: workbooks, views and sheet types (to build a config)')
    .option('--site <contentUrl>', "site contentUrl (default: the config's tableau.site)")
    .option('--workbook <name>', 'only this workbook')
    .option('--json', 'print JSON')
    .action(async (o: { site?: string; workbook?: string; json?: boolean }) => {
      setExit(
        await (
          await import('./commands/views.js')
        ).viewsCommand(
          resolveConfigPath(g().config),
          { ...o, json: o.json === true },
          { logger: makeLogger(g().verbose === true, 'warn'), redactor },
        ),
      );
    });

  program
    .command('history')
    .description('run history (all exports, one export, or one run by id)')
    .argument('[id]', 'export id or run id')
    .option('-n, --limit <n>', 'how many runs', '20')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, o: { limit: string; json?: boolean }) => {
      setExit(
        await withContext(g(), 'warn', (ctx) =>
          historyCommand(ctx, id, { limit: Number(o.limit), json: o.json === true }),
        ),
      );
    });
}

/** Long-running commands and the demo: serve, worker, demo. */
function addServiceCommands(program: Command, g: () => GlobalOptions, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description(
      'scheduler + admin API and dashboard (port from --port, server.port, PORT or 8080; tokens from ADMIN_TOKENS or ADMIN_TOKEN)',
    )
    .option('-p, --port <n>', 'admin port')
    .addOption(new Option('--no-work', 'queue mode: only schedule and serve the API; leave runs to workers'))
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  ADMIN_TOKENS   named admin tokens, name:token,name:token (e.g. alice:<secret>,bob:<secret>); the run',
        '                 history records the name of whoever pressed "Sync now", never the token',
        '  ADMIN_TOKEN    one admin token, recorded as "admin" (may be combined with ADMIN_TOKENS)',
        '                 tokens are single words of 16+ characters, each its own value, of at least 128 bits',
        '                 by the README rule: generate one with `openssl rand -hex 32`',
        '  ADMIN_TOKEN_MIN_ENTROPY  least estimated strength of a token in bits (default 128)',
        '  PORT           admin port when neither --port nor server.port is set (default 8080)',
        '  LOG_LEVEL      debug, info (default), warn, error',
        '',
        'The dashboard is at http://<host>:<port>/ ; the admin API needs "Authorization: Bearer <token>".',
      ].join('\n'),
    )
    .action(async (o: { port?: string; work: boolean }) => {
      setExit(
        await (
          await import('./commands/serve.js')
        ).serveCommand(resolveConfigPath(g().config), {
          port: o.port === undefined ? undefined : Number(o.port),
          work: o.work,
          logger: makeLogger(g().verbose === true, 'info'),
          redactor,
        }),
      );
    });

  program
    .command('worker')
    .description('queue mode: process export runs from Redis')
    .action(async () => {
      setExit(
        await (
          await import('./commands/worker.js')
        ).workerCommand(resolveConfigPath(g().config), { logger: makeLogger(g().verbose === true, 'info'), redactor }),
      );
    });

  program
    .command('demo')
    .description('start the built-in Tableau and Microsoft Graph simulators and run the sample export end to end')
    .option('--rows <n>', 'opportunities in the simulated Tableau view', '5000')
    .option('--json', 'print the run report as JSON')
    .action(async (o: { rows: string; json?: boolean }) => {
      setExit(
        await (
          await importDemo()
        ).demoCommand(resolveConfigPath(g().config), {
          rows: Number(o.rows),
          json: o.json === true,
          logger: makeLogger(g().verbose === true, 'warn'),
          redactor,
        }),
      );
    });
}

/**
 * The demo needs the simulators, whose throw-away certificates come from a development dependency: a production
 * install (`npm ci --omit=dev`, the Docker image) has no certificate generator, on purpose.
 */
async function importDemo(): Promise<typeof DemoModule> {
  try {
    return await import('./commands/demo.js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /selfsigned/.test(String(err))) {
      throw new UsageError('the demo needs the development install (its simulators generate throw-away certificates)', {
        hint: 'run it from a clone: npm ci && npm run demo',
      });
    }
    throw err;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(err, { verbose: program.opts<GlobalOptions>().verbose === true, redactor });
  }
}

process.exitCode = await main(process.argv);
