/**
 * A worker on its own task queue against the run's Temporal server and database, with a real SMTP
 * server in the test process — the engine as it runs in production, minus the HTTP API.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../activities/index.ts';
import { createMailTransport } from '../../activities/mailer.ts';
import { startCallbackDispatcher, type CallbackDispatcher } from '../../runtime/callback-dispatcher.ts';
import type { Resolve } from '../../runtime/callback-sender.ts';
import { startMailDispatcher, type MailDispatcher } from '../../runtime/mail-dispatcher.ts';
import { activityInterceptors } from '../../runtime/worker.ts';
import type { DatabaseHandle } from '../../db/connect.ts';
import { testDatabase, type TestDatabase } from './database.ts';
import { startTestSmtp, type TestSmtp } from './smtp.ts';

// Worker lifecycle chatter drowns test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process by another test file
}

export interface TestEngine {
  client: Client;
  taskQueue: string;
  namespace: string;
  database: DatabaseHandle;
  smtp: TestSmtp;
  /** CCX_SECRET_KEY of this engine: the test stack's API seals callback secrets with it. */
  secretKey: Buffer;
  /** Starts a worker on the task queue (one is started by default). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestCallbackOptions {
  /** Loopback receivers allowed (default true: tests receive on 127.0.0.1). */
  allowInsecure?: boolean;
  resolve?: Resolve;
  leaseMs?: number;
  /** Lines the callback dispatcher logs. */
  log?: (line: string) => void;
}

export async function startTestEngine(options: { worker?: boolean; database?: TestDatabase; callbacks?: TestCallbackOptions } = {}): Promise<TestEngine> {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = `test-${randomUUID()}`;
  const database = testDatabase(options.database);
  const smtp = await startTestSmtp();
  const mailer = createMailTransport(smtp.url);
  const client = new Client({ connection: await Connection.connect({ address }), namespace });
  const nativeConnection = await NativeConnection.connect({ address });
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let dispatcher: MailDispatcher | undefined;
  let callbacks: CallbackDispatcher | undefined;
  const secretKey = randomBytes(32);
  const cb = options.callbacks ?? {};

  const engine: TestEngine = {
    client,
    taskQueue,
    namespace,
    database,
    smtp,
    secretKey,
    async startWorker() {
      worker = await Worker.create({
        connection: nativeConnection,
        namespace,
        taskQueue,
        workflowBundle: { code: inject('workflowBundleCode') },
        activities: createActivities({ db: database.db, temporal: { client, taskQueue } }),
        interceptors: activityInterceptors,
      });
      running = worker.run();
      // As in production: the process that runs the worker also delivers its queue's mail outbox.
      // A short lease, so that a test of a slow relay proves the claim is renewed while it waits.
      dispatcher = startMailDispatcher({ db: database.db, mailer, mailFrom: 'ccx-test@ccx.invalid', queue: taskQueue, intervalMs: 100, leaseMs: 6000 }, () => {});
      callbacks = startCallbackDispatcher(
        {
          db: database.db,
          queue: taskQueue,
          keyring: { current: secretKey, previous: [] },
          allowInsecure: cb.allowInsecure ?? true,
          resolve: cb.resolve,
          intervalMs: 100,
          leaseMs: cb.leaseMs ?? 6000,
        },
        cb.log ?? (() => {}),
      );
    },
    async stopWorker() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await dispatcher?.stop();
      await callbacks?.stop();
      worker = undefined;
      dispatcher = undefined;
      callbacks = undefined;
    },
    async stop() {
      await engine.stopWorker();
      await nativeConnection.close();
      await client.connection.close();
      mailer.close();
      await smtp.stop();
      await database.close();
    },
  };
  if (options.worker !== false) await engine.startWorker();
  return engine;
}
