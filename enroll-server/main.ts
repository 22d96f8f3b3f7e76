/**
 * `npm start`: read the configuration once, build the app, listen, and shut down cleanly on
 * SIGTERM/SIGINT. The only file of the server that reads process.env or prints to the console.
 */
import { LOG_SERIALIZERS, REDACT_PATHS, buildApp } from './app.js';
import { ConfigError, loadConfig } from './core/config.js';
import { redactUrl } from './core/postgres/database.js';
import { SigningKeyError } from './core/signing-key.js';

/** Printed first in dev mode: nobody should mistake a development server for a real one. */
const DEV_BANNER = [
  '',
  '  ************************************************************************************',
  '  *  DEVELOPMENT MODE (HOMENODE_DEV=1): nodes are sent built-in development values   *',
  '  *  for the k3s server and token and the WireGuard hub. They join no real cluster.  *',
  '  *  For a real deployment set HOMENODE_CLUSTER_SERVER, HOMENODE_CLUSTER_TOKEN,      *',
  '  *  HOMENODE_WG_HUB_PUBLIC_KEY, HOMENODE_WG_HUB_ENDPOINT and start without it.      *',
  '  ************************************************************************************',
];

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }

  const app = await buildApp(config, {
    logger: {
      level: config.logLevel,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: LOG_SERIALIZERS,
    },
  }).catch((error: unknown) => {
    // A release key file that is missing, unreadable or open to other users: the operator's to fix.
    if (!(error instanceof SigningKeyError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    return process.exit(2);
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ event: 'shutdown', signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  const address = await app.listen({ host: config.host, port: config.port });
  const { bootstrap } = app.homenode;
  const lines = [
    ...(config.dev ? DEV_BANNER : []),
    '',
    `Home Node enroll-server is listening on ${address}`,
    `  Dashboard and API: ${config.publicUrl}/  (API description: ${config.publicUrl}/openapi.json)`,
    `  Database: ${config.databaseUrl ? `PostgreSQL ${redactUrl(config.databaseUrl)}` : config.dbPath}`,
  ];
  if (bootstrap.adminToken && bootstrap.generated) {
    lines.push(
      '',
      '  First start: an admin API token was created. It is shown only this once; store it safely:',
      '',
      `      ${bootstrap.adminToken}`,
      '',
      `  Use it as:  HOMENODE_URL=${config.publicUrl} HOMENODE_TOKEN=<token> npm run admin -- --help`,
    );
  } else if (bootstrap.adminToken) {
    lines.push('  First start: the admin token from HOMENODE_BOOTSTRAP_TOKEN was stored.');
  }
  console.log(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error('The enroll-server could not start:', error);
  process.exit(1);
});
