/**
 * Secrets come only from environment variables: the config names them (`...Env` keys), this module reads them. A
 * missing one is a config error naming the key, so the run never starts half-configured.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../shared/errors.js';
import { redisUrlPasswords } from '../shared/redis-url.js';

export interface EnvSecrets {
  /** The value of env var `name`; throws ConfigError naming `key` when it is unset or empty. */
  require(name: string, key: string): string;
  /** The text of the file at `path` (a path an env var named by `key` holds); throws ConfigError when unreadable. */
  readFile(path: string, key: string): string;
}

export function createEnvSecrets(configFile: string, env: NodeJS.ProcessEnv): EnvSecrets {
  const fail = (key: string, message: string): never => {
    throw new ConfigError([{ file: configFile, line: undefined, path: key, message }]);
  };
  return {
    require(name, key) {
      const value = env[name];
      if (value === undefined || value === '') {
        return fail(
          key,
          `environment variable ${name} is not set; export it before running (secrets are read from the environment only)`,
        );
      }
      return value;
    },
    readFile(path, key) {
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        return fail(
          key,
          `cannot read the file its environment variable points to (${code}); check the path and that this user may read it`,
        );
      }
    },
  };
}

/** Collects the values of every env var the config names, so the redactor knows them before anything logs. */
export function secretValues(config: Config, env: NodeJS.ProcessEnv): string[] {
  const names: (string | undefined)[] = [];
  const auth = config.tableau?.auth;
  if (auth?.type === 'pat') names.push(auth.tokenSecretEnv);
  if (auth?.type === 'connected-app') names.push(auth.secretValueEnv, auth.secretIdEnv);
  if (auth?.type === 'password') names.push(auth.passwordEnv);
  names.push(config.onedrive?.clientSecretEnv, config.queue?.redisUrlEnv);
  for (const e of config.exports) names.push(e.notify?.webhookUrlEnv);
  const values = names.flatMap((n) => (n === undefined || env[n] === undefined || env[n] === '' ? [] : [env[n]]));
  // The Redis password on its own too: ioredis or a teammate may print it apart from its URL.
  const redisUrl = config.queue?.redisUrlEnv === undefined ? undefined : env[config.queue.redisUrlEnv];
  return redisUrl === undefined ? values : [...values, ...redisUrlPasswords(redisUrl)];
}
