/**
 * Assembles the running product from configuration: Temporal (remote, or the embedded dev server),
 * Postgres (DATABASE_URL, or embedded PGlite), SMTP (SMTP_URL, or a sink writing .eml files), then
 * the worker and the HTTP API. `ccx start` runs all of it in one process; `ccx worker` and
 * `ccx api` run one part each for scale-out.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Transporter } from 'nodemailer';
import { checkSender, createMailTransport } from '../activities/mailer.ts';
import { hasActiveOperatorKey } from '../db/api-key.repository.ts';
import { openDatabase, type DatabaseHandle } from '../db/connect.ts';
import { startEmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { ensureActiveRuleSet } from '../api/rule-set.service.ts';
import { startSmtpSink } from './smtp-sink.ts';
import { loadSecretKeyring, type Config } from './config.ts';
import { reencryptCallbackSecrets, startCallbackDispatcher } from './callback-dispatcher.ts';
import { startDevServer } from './dev-server.ts';
import { startMailDispatcher } from './mail-dispatcher.ts';
import { createWorker, startFanoutRelay } from './worker.ts';

type Stop = () => Promise<void>;
export interface Stack {
  temporalAddress: string;
  database: DatabaseHandle;
  app?: FastifyInstance;
  worker?: Worker;
  stop(): Promise<void>;
}

export async function startStack(config: Config, parts: { api: boolean; worker: boolean }, log = console.log): Promise<Stack> {
  const stops: Stop[] = [];
  // Calls queue up and each drains what is left: after a fatal worker error has stopped the stack,
  // the CLI's own stop finds nothing to do, and a part started meanwhile is still stopped.
  let stopped = Promise.resolve();
  const stop = () =>
    (stopped = stopped.then(async () => {
      while (stops.length > 0) await stops.pop()!().catch((err: unknown) => log(`shutdown: ${String(err)}`));
    }));
  let workerFailure: unknown;
  // Checked before anything starts: a missing key must stop the boot, not the first invitation.
  // Workers need it too: they sign the callbacks.
  const keyring = loadSecretKeyring(config);
  try {
    let temporalAddress = config.temporal.address;
    // The /machines page links each run to the Temporal UI: the dev server's, or CCX_TEMPORAL_UI_URL.
    let temporalUiUrl = process.env.CCX_TEMPORAL_UI_URL || undefined;
    if (!temporalAddress) {
      const dev = await startDevServer({
        dataDir: path.join(config.dataDir, 'temporal'),
        port: config.temporal.devServerPort,
        namespace: config.temporal.namespace,
      });
      stops.push(dev.stop);
      temporalAddress = dev.address;
      temporalUiUrl ??= dev.uiUrl;
      log(`Temporal dev server on ${dev.address}, UI ${dev.uiUrl}`);
    }

    const database = await openConfiguredDatabase(config, stops, log);
    await migrateToLatest(database.db);
    const rules = await ensureActiveRuleSet(database.db);
    log(`active rule set ${rules.name} (${rules.hash.slice(0, 12)})`);
    const stack: Stack = { temporalAddress, database, stop };

    if (parts.worker) {
      const mailer = await openMailer(config, stops, log);
      const connection = await NativeConnection.connect({ ...config.temporal.connectionOptions, address: temporalAddress });
      stops.push(() => connection.close()); // before createWorker: closed even when that throws
      // Activities that signal or update other workflows (fan-outs, purchases) use their own client;
      // so does the fan-out relay.
      const activityConnection = await Connection.connect({ ...(config.temporal.connectionOptions as object), address: temporalAddress });
      stops.push(() => activityConnection.close());
      const activityClient = new Client({ connection: activityConnection, namespace: config.temporal.namespace });
      const worker = await createWorker({
        client: activityClient,
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        db: database.db,
      });
      // A fatal worker error (e.g. Temporal gone for good) takes the whole process down, instead of
      // an unhandled rejection or an API that answers while nothing runs its workflows.
      const running = worker.run().catch((err: unknown) => {
        log(`worker failed, stopping: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exitCode = 1;
        workerFailure = err;
        void stop();
      });
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      });
      stack.worker = worker;
      log(`worker polling task queue ${config.temporal.taskQueue}`);
      // Mails leave through the outbox; this process delivers its share (stopped before the database).
      const dispatcher = startMailDispatcher({ db: database.db, mailer, mailFrom: config.mailFrom, queue: config.temporal.taskQueue, leaseMs: config.mailLeaseMs }, log);
      stops.push(() => dispatcher.stop());
      // Callbacks likewise; secrets sealed by a previous key are sealed with the current one first.
      const sealed = await reencryptCallbackSecrets(database.db, keyring);
      if (sealed.reencrypted > 0) log(`re-encrypted ${sealed.reencrypted} callback secret(s) with the current CCX_SECRET_KEY`);
      if (sealed.unreadable > 0) log(`WARNING: ${sealed.unreadable} callback secret(s) open with no configured key (CCX_SECRET_KEY, CCX_SECRET_KEYS_PREVIOUS); their deliveries wait`);
      const callbacks = startCallbackDispatcher(
        { db: database.db, queue: config.temporal.taskQueue, keyring, allowInsecure: config.allowInsecureCallbacks, leaseMs: config.callbackLeaseMs },
        log,
      );
      stops.push(() => callbacks.stop());
      if (config.fanoutRelayMs > 0) {
        // Stopped before the worker and the connections it uses (stops run last-in first-out).
        const relay = startFanoutRelay({ db: database.db, client: activityClient, taskQueue: config.temporal.taskQueue, intervalMs: config.fanoutRelayMs }, log);
        stops.push(() => relay.stop());
      }
    }

    if (parts.api) {
      // Loaded only here: a worker process has no use for the HTTP layer.
      const { buildApp } = await import('../api/app.ts');
      const connection = await Connection.connect({ ...(config.temporal.connectionOptions as object), address: temporalAddress });
      stops.push(() => connection.close());
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const newOperatorKey = await bootstrapOperatorKey(database, config, log);
      const app = buildApp({
        db: database.db,
        temporal: { client, taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace },
        secretKey: keyring.current,
        allowInsecureCallbacks: config.allowInsecureCallbacks,
        admission: config.admission,
        temporalUiUrl,
      });
      await app.listen({ port: config.port, host: process.env.HOST ?? '0.0.0.0' });
      stops.push(() => app.close());
      // Idempotency keys live 24 h; any API process may sweep (the delete is idempotent).
      const { purgeExpiredIdempotencyKeys } = await import('../db/idempotency.repository.ts');
      const { IDEMPOTENCY_TTL_MS } = await import('../api/idempotency.ts');
      const sweep = () => void purgeExpiredIdempotencyKeys(database.db, IDEMPOTENCY_TTL_MS).catch(() => {});
      sweep();
      const timer = setInterval(sweep, 60 * 60 * 1000);
      timer.unref();
      stops.push(async () => clearInterval(timer));
      stack.app = app;
      log(`HTTP API on http://127.0.0.1:${config.port} (OpenAPI at /openapi.json, docs at /docs)`);
      log(startBanner(`http://127.0.0.1:${config.port}`, temporalUiUrl, config.temporal.namespace, newOperatorKey));
    }
    if (workerFailure) throw workerFailure; // failed while the rest was starting
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function openConfiguredDatabase(config: Config, stops: Stop[], log: typeof console.log): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    const handle = openDatabase(config.databaseUrl);
    stops.push(handle.close);
    return handle;
  }
  const dataDir = path.join(config.dataDir, 'pg');
  const embedded = await startEmbeddedPostgres({ dataDir });
  stops.push(embedded.stop);
  const handle = openDatabase(embedded.url, { embedded: true });
  stops.push(handle.close);
  log(`embedded Postgres (PGlite) in ${dataDir} at ${embedded.url}`);
  return handle;
}

async function openMailer(config: Config, stops: Stop[], log: typeof console.log): Promise<Transporter> {
  let url = config.smtpUrl;
  if (url) {
    // Our own setup refused (credentials, sender) would fail every mail: refuse to start instead.
    // A relay that is merely down must not stop a boot: the mails wait in the outbox.
    const check = await checkSender(url, config.mailFrom);
    if (check.status === 'refused') throw new Error(`SMTP_URL refuses our sender ${config.mailFrom}: ${check.error}`);
    if (check.status === 'unreachable') log(`WARNING: SMTP relay not reachable now (${check.error}); mails wait in the outbox until it is`);
  } else {
    const dir = path.join(config.dataDir, 'mail');
    const sink = await startSmtpSink({ dir });
    stops.push(sink.stop);
    url = `smtp://127.0.0.1:${sink.port}`;
    log(`SMTP sink on ${url}, mails kept in ${dir}`);
  }
  const mailer = createMailTransport(url);
  stops.push(async () => mailer.close());
  return mailer;
}

/** Where everything is, once the stack answers; the operator key only on the boot that created it. */
function startBanner(api: string, temporalUi: string | undefined, namespace: string, newOperatorKey: string | undefined): string {
  const lines = [
    '',
    '  ccx is running',
    `    API           ${api}  (OpenAPI: ${api}/openapi.json)`,
    `    API docs      ${api}/docs`,
    `    machines      ${api}/machines`,
    `    Temporal UI   ${temporalUi ? `${temporalUi}/namespaces/${encodeURIComponent(namespace)}/workflows` : 'set CCX_TEMPORAL_UI_URL to show it here'}`,
  ];
  if (newOperatorKey) {
    lines.push('', `    operator API key (created on this first boot, shown once — store it): ${newOperatorKey}`);
    lines.push(`    try it:  CCX_OPERATOR_KEY=${newOperatorKey} npm run demo`);
  } else {
    lines.push('', '    operator key: the one printed on first boot (or CCX_OPERATOR_KEY); demo: npm run demo -- --key <operator key>');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * CCX_OPERATOR_KEY when given; otherwise the first boot creates one, answered here for the banner
 * (the only time it is ever shown).
 */
async function bootstrapOperatorKey(database: DatabaseHandle, config: Config, log: typeof console.log): Promise<string | undefined> {
  const { createApiKey, ensureOperatorKey, operatorPrincipal } = await import('../api/auth.ts');
  if (config.operatorKey) {
    const { keyId, revoked } = await ensureOperatorKey(database.db, config.operatorKey);
    // Revocation wins over the environment: the key stays refused, so say so at boot.
    if (revoked) log(`WARNING: CCX_OPERATOR_KEY (key ${keyId}) is revoked: requests with it are refused with 401; set another key`);
    return undefined;
  }
  if (await hasActiveOperatorKey(database.db)) return undefined;
  return (await createApiKey(database.db, operatorPrincipal)).apiKey;
}
