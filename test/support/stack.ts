/**
 * The whole product for HTTP tests: the engine (worker on its own task queue, real SMTP server in
 * the test) plus the API built on the same Temporal client and database, reached by app.inject().
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.ts';
import { createApiKey, operatorPrincipal } from '../../api/auth.ts';
import { startTestEngine, type TestEngine } from './engine.ts';

export interface TestStack {
  engine: TestEngine;
  app: FastifyInstance;
  operatorKey: string;
  stop(): Promise<void>;
}

export async function startTestStack(options: { temporalDeadlineMs?: number; database?: 'shared' | 'isolated' } = {}): Promise<TestStack> {
  const engine = await startTestEngine({ database: options.database });
  const app = buildApp({
    db: engine.database.db,
    temporal: { client: engine.client, taskQueue: engine.taskQueue, namespace: engine.namespace },
    secretKey: randomBytes(32),
    temporalDeadlineMs: options.temporalDeadlineMs ?? 4000,
    allowInsecureCallbacks: true,
  });
  await app.ready();
  const { apiKey: operatorKey } = await createApiKey(engine.database.db, operatorPrincipal);
  return {
    engine,
    app,
    operatorKey,
    async stop() {
      await app.close();
      await engine.stop();
    },
  };
}
