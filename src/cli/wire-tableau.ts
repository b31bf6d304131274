/** The Tableau source of the config: its credentials read from the environment, its settings mapped. */
import type { TableauConfig } from '../config/schema.js';
import { realSleep, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import { createTableauSource, type TableauSourceOptions } from '../sources/tableau/index.js';
import type { EnvSecrets } from './env-secrets.js';
import { toRetryPolicy } from './retry-policy.js';

export type TableauSource = ReturnType<typeof createTableauSource>;

/** Builds the source; throws ConfigError when a secret it needs is not set. */
export function wireTableauSource(
  t: TableauConfig,
  secrets: EnvSecrets,
  deps: { readonly logger: Logger; readonly redactor: Redactor; readonly clock: Clock },
): TableauSource {
  return createTableauSource(
    {
      serverUrl: t.serverUrl,
      site: t.site,
      apiVersion: t.apiVersion,
      auth: tableauCredentials(t.auth, secrets),
      ...(t.caFile === undefined ? {} : { caFile: t.caFile }),
      maxConcurrentExports: t.maxConcurrentExports,
      pageSize: t.pageSize,
      connectTimeoutMs: t.connectTimeout,
      idleTimeoutMs: t.idleTimeout,
      maxBytes: t.maxBytes,
      retry: toRetryPolicy(t.retry),
    },
    { ...deps, sleep: realSleep },
  );
}

function tableauCredentials(a: TableauConfig['auth'], secrets: EnvSecrets): TableauSourceOptions['auth'] {
  switch (a.type) {
    case 'pat':
      return {
        type: 'pat',
        tokenName: secrets.require(a.tokenNameEnv, 'tableau.auth.tokenNameEnv'),
        tokenSecret: secrets.require(a.tokenSecretEnv, 'tableau.auth.tokenSecretEnv'),
      };
    case 'connected-app':
      return {
        type: 'connected-app',
        clientId: secrets.require(a.clientIdEnv, 'tableau.auth.clientIdEnv'),
        secretId: secrets.require(a.secretIdEnv, 'tableau.auth.secretIdEnv'),
        secretValue: secrets.require(a.secretValueEnv, 'tableau.auth.secretValueEnv'),
        username: a.username,
        ...(a.scopes === undefined ? {} : { scopes: a.scopes }),
      };
    case 'password':
      return {
        type: 'password',
        username: secrets.require(a.usernameEnv, 'tableau.auth.usernameEnv'),
        password: secrets.require(a.passwordEnv, 'tableau.auth.passwordEnv'),
      };
  }
}
