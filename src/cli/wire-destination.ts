/** An export's destination: a local folder, or OneDrive/SharePoint with the Entra app's credential. */
import { basename, dirname, join } from 'node:path';
import type { Config, ExportConfig, OneDriveConfig } from '../config/schema.js';
import type { Destination } from '../contracts/ports.js';
import { ConfigError } from '../shared/errors.js';
import { realSleep, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import { createLocalDestination } from '../destinations/local/local-destination.js';
import {
  createOneDriveDestination,
  resolveCloud,
  type createGraphAuthRegistry,
  type GraphCredential,
} from '../destinations/onedrive/index.js';
import type { EnvSecrets } from './env-secrets.js';
import { toRetryPolicy } from './retry-policy.js';

/** A destination, and for OneDrive a check that signs in and resolves the target without writing. */
export type WiredDestination = Destination & { check?: () => Promise<unknown> };

export interface DestinationWiring {
  readonly configFile: string;
  readonly config: Config;
  readonly secrets: EnvSecrets;
  /** One MSAL token cache per app registration, shared by every OneDrive export of the process. */
  readonly graphAuths: ReturnType<typeof createGraphAuthRegistry>;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
}

/** Builds the destination of `exp`; throws ConfigError when its section or a secret is missing. */
export function wireDestination(exp: ExportConfig, w: DestinationWiring): WiredDestination {
  const d = exp.destination;
  if (d.type === 'local') {
    // A burst part's file name may hold folders under dir (`EMEA/Pipeline EMEA.xlsx`).
    const relative = d.fileName ?? `${exp.id}.xlsx`;
    return createLocalDestination({
      dir: join(d.dir, dirname(relative)),
      fileName: basename(relative),
      skipUnchanged: d.skipUnchanged,
      mode: d.mode,
      fileMode: d.fileMode,
    });
  }
  const od = w.config.onedrive;
  if (od === undefined) {
    throw new ConfigError([
      {
        file: w.configFile,
        line: undefined,
        path: 'onedrive',
        message: 'a onedrive destination needs the top-level "onedrive" section',
      },
    ]);
  }
  const endpoints =
    od.authorityHost !== undefined && od.graphBaseUrl !== undefined
      ? { authorityHost: od.authorityHost, graphBaseUrl: od.graphBaseUrl }
      : resolveCloud(od.cloud);
  const authOptions = {
    tenantId: od.tenantId,
    clientId: od.clientId,
    credential: graphCredential(od, w.secrets),
    ...endpoints,
    ...(od.caFile === undefined ? {} : { caFile: od.caFile }),
  };
  const destination = createOneDriveDestination(
    {
      ...authOptions,
      drive: d.drive,
      path: d.path,
      onLocked: { retryForMs: d.onLocked.retryFor, then: d.onLocked.then },
      uploadSessionThresholdBytes: d.uploadSessionThreshold,
      chunkBytes: d.chunkSize,
      retry: toRetryPolicy(od.retry),
      skipUnchanged: d.skipUnchanged,
      mode: d.mode,
    },
    { logger: w.logger, redactor: w.redactor, clock: w.clock, sleep: realSleep, auth: w.graphAuths.get(authOptions) },
  );
  return {
    describe: () => destination.describe(),
    deliver: (f, c) => destination.deliver(f, c),
    fetchCurrent: destination.fetchCurrent,
    check: () => destination.resolveTarget({}),
  };
}

/** The app's client secret, or its certificate (private key and optional chain read from files the env names). */
function graphCredential(od: OneDriveConfig, secrets: EnvSecrets): GraphCredential {
  if (od.clientSecretEnv !== undefined) {
    return { clientSecret: secrets.require(od.clientSecretEnv, 'onedrive.clientSecretEnv') };
  }
  const cert = od.certificate;
  const keyPath = secrets.require(cert?.privateKeyFileEnv ?? '', 'onedrive.certificate.privateKeyFileEnv');
  const thumbprint = cert?.thumbprint ?? '';
  return {
    certificate: {
      privateKey: secrets.readFile(keyPath, 'onedrive.certificate.privateKeyFileEnv'),
      ...(thumbprint.length === 64 ? { thumbprintSha256: thumbprint } : { thumbprint }),
      ...(cert?.x5cFileEnv === undefined
        ? {}
        : {
            x5c: secrets.readFile(
              secrets.require(cert.x5cFileEnv, 'onedrive.certificate.x5cFileEnv'),
              'onedrive.certificate.x5cFileEnv',
            ),
          }),
    },
  };
}
