/**
 * The API against the run's real Postgres and Temporal dev server, reached with app.inject().
 * Each context gets its own task queue with no worker: tests here cover what the API decides on
 * its own; lifecycle tests with a worker live in the lead's harness.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect, inject } from 'vitest';
import { buildApp, type ApiDeps } from '../../api/app.ts';
import { createApiKey, operatorPrincipal } from '../../api/auth.ts';
import { setModule } from '../../db/company.repository.ts';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';
import { testDatabase } from '../support/database.ts';

export interface ApiTestContext {
  app: FastifyInstance;
  db: ReturnType<typeof testDatabase>['db'];
  client: Client;
  taskQueue: string;
  operatorKey: string;
  close(): Promise<void>;
}

export async function apiTestContext(overrides: Partial<ApiDeps> = {}): Promise<ApiTestContext> {
  const handle = testDatabase();
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const namespace = inject('temporalNamespace');
  const client = new Client({ connection, namespace });
  const taskQueue = `api-test-${randomUUID()}`;
  const app = buildApp({
    db: handle.db,
    temporal: { client, taskQueue, namespace },
    secretKey: randomBytes(32),
    temporalDeadlineMs: 1500,
    allowInsecureCallbacks: true,
    ...overrides,
  });
  await app.ready();
  const { apiKey: operatorKey } = await createApiKey(handle.db, operatorPrincipal);
  return {
    app,
    db: handle.db,
    client,
    taskQueue,
    operatorKey,
    async close() {
      await app.close();
      await connection.close();
      await handle.close();
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export function call(
  app: FastifyInstance,
  key: string | undefined,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: { ...(key ? bearer(key) : {}), ...headers }, ...(body === undefined ? {} : { payload: body as object }) });
}

/** A contracting company (module on or off) with one client per name; returns ids and keys. */
export async function seedCompany(
  ctx: ApiTestContext,
  options: { moduleActive: boolean; clientNames: string[] },
): Promise<{ companyId: string; clients: { id: string; apiKey: string; name: string }[] }> {
  const company = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/contracting-companies', { name: 'Verlag' });
  if (company.statusCode !== 201) throw new Error(`company: ${company.statusCode} ${company.body}`);
  const companyId = company.json().id as string;
  // Directly in the table: the PUT route would also start a fan-out workflow (operator.test.ts).
  if (options.moduleActive) await setModule(ctx.db, companyId, CROSS_CLIENT_MODULE, true);
  const clients = [];
  for (const name of options.clientNames) {
    const res = await call(ctx.app, ctx.operatorKey, 'POST', '/v1/clients', {
      contractingCompanyId: companyId,
      name,
      email: `${name.toLowerCase()}@example.test`,
      language: 'de',
    });
    if (res.statusCode !== 201) throw new Error(`client: ${res.statusCode} ${res.body}`);
    clients.push({ id: res.json().client.id as string, apiKey: res.json().apiKey as string, name });
  }
  return { companyId, clients };
}

/** Workflows matching a visibility query; polls because visibility lags by moments. */
export async function listWorkflows(client: Client, query: string, atLeast = 0, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = [];
    for await (const wf of client.workflow.list({ query })) found.push(wf);
    if (found.length >= atLeast || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first argument a workflow was started with (read from its history). */
export async function startInput(client: Client, workflowId: string): Promise<unknown> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

/** Cleans up the workflows a test left waiting for a worker that never comes. */
export async function terminateRunning(client: Client, query: string): Promise<void> {
  for await (const wf of client.workflow.list({ query: `${query} AND ExecutionStatus = "Running"` })) {
    await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('test cleanup').catch(() => undefined);
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Calls as a client of an app: `as` answers the raw response, `ok` asserts the status (200 unless
 * told) and answers the JSON body. `app` is read on each call, so it may be set in beforeAll.
 */
export function clientCalls(app: () => FastifyInstance) {
  const as = (p: { apiKey: string }, method: Method, url: string, body?: unknown) => call(app(), p.apiKey, method, url, body);
  async function ok<T = any>(p: { apiKey: string }, method: Method, url: string, body?: unknown, status = 200): Promise<T> {
    const res = await as(p, method, url, body);
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
    return res.json() as T;
  }
  return { as, ok };
}
