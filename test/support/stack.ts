/**
 * The whole product for HTTP tests: the engine (worker on its own task queue, real SMTP server in
 * the test) plus the API built on the same Temporal client and database, reached by app.inject().
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.ts';
import { createApiKey, operatorPrincipal } from '../../api/auth.ts';
import type { TestDatabase } from './database.ts';
import { startTestEngine, type TestCallbackOptions, type TestEngine } from './engine.ts';

export interface TestStack {
  engine: TestEngine;
  app: FastifyInstance;
  operatorKey: string;
  stop(): Promise<void>;
}

export async function startTestStack(
  options: { temporalDeadlineMs?: number; database?: TestDatabase; temporalUiUrl?: string; callbacks?: TestCallbackOptions } = {},
): Promise<TestStack> {
  const engine = await startTestEngine({ database: options.database, callbacks: options.callbacks });
  const app = buildApp({
    db: engine.database.db,
    temporal: { client: engine.client, taskQueue: engine.taskQueue, namespace: engine.namespace },
    secretKey: engine.secretKey, // the worker's dispatcher opens what the API sealed
    // Generous unless a test is about deadlines: a loaded machine must not turn answers into 503s.
    temporalDeadlineMs: options.temporalDeadlineMs ?? 10_000,
    allowInsecureCallbacks: true,
    temporalUiUrl: options.temporalUiUrl,
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

export interface HttpParty {
  id: string;
  apiKey: string;
  email: string;
}

/**
 * A contracting company (module on unless told otherwise) and its clients, created the way an
 * operator would: over HTTP. Languages alternate German, English.
 */
export async function companyOverHttp(stack: TestStack, names: string[], options: { moduleOn?: boolean } = {}): Promise<{ id: string; clients: HttpParty[] }> {
  const send = (method: 'POST' | 'PUT', url: string, body?: unknown) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${stack.operatorKey}` }, ...(body === undefined ? {} : { payload: body as object }) });
  const created = await send('POST', '/v1/contracting-companies', { name: 'Verlagsgruppe' });
  if (created.statusCode !== 201) throw new Error(`company: ${created.statusCode} ${created.body}`);
  const id = created.json().id as string;
  if (options.moduleOn !== false) {
    const on = await send('PUT', `/v1/contracting-companies/${id}/modules/CROSS_CLIENT_CONNECTIONS`);
    if (on.statusCode !== 204) throw new Error(`module: ${on.statusCode} ${on.body}`);
  }
  const clients: HttpParty[] = [];
  for (const [i, name] of names.entries()) {
    const email = `${name.toLowerCase()}.${id.toLowerCase()}@example.test`;
    const res = await send('POST', '/v1/clients', { contractingCompanyId: id, name, email, language: i % 2 ? 'en' : 'de' });
    if (res.statusCode !== 201) throw new Error(`client: ${res.statusCode} ${res.body}`);
    clients.push({ id: res.json().client.id, apiKey: res.json().apiKey, email });
  }
  return { id, clients };
}
