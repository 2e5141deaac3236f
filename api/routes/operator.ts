/**
 * Operator routes (docs/architecture.md "HTTP API"): contracting companies, contract modules, clients, keys.
 * Rule sets have their own routes (rule-sets.ts).
 */
import { randomInt } from 'node:crypto';
import type { Client as TemporalClient } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { startPairFanouts } from '../../activities/availability.dispatch.ts';
import { startModuleFanouts } from '../../activities/module.dispatch.ts';
import { appendAuditEntry } from '../../db/audit.repository.ts';
import { listOpenPairsOfCompany, touchPairs } from '../../db/availability.repository.ts';
import { getClient, insertClient, listClientsOfCompany } from '../../db/client.repository.ts';
import { getCompany, insertCompany, listModules, setModule, type Company as CompanyRow } from '../../db/company.repository.ts';
import type { Client as ClientRow, Database } from '../../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';
import { ErrorCode } from '../../domain/errors.ts';
import { actorOf, authenticateRoutes, clientPrincipal, createApiKey, revokeKey, viewerPrincipal } from '../auth.ts';
import { ApiError, ApiOnlyCode } from '../errors.ts';
import { registerIdempotency } from '../idempotency.ts';
import { ApiKeyCreated, Client, Company, CompanyDetail, CreateClientBody, CreateCompanyBody, ModuleName, NoContent, PathId, refusal, ShownOnceKey } from '../schemas.ts';
import { withZod } from '../validation.ts';

export interface OperatorDeps {
  db: Kysely<Database>;
  temporal: { client: TemporalClient; taskQueue: string };
  temporalDeadlineMs: number;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** 20 × log2(36) ≈ 103 bits: collisions are not a practical concern, but inserts still check. */
export function generateEntityId(): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

const companyView = (c: CompanyRow) => ({ id: c.id, name: c.name, createdAt: c.created_at.toISOString() });
const clientView = (c: ClientRow) => ({
  id: c.id,
  contractingCompanyId: c.contracting_company_id,
  name: c.name,
  email: c.email,
  language: c.language,
  createdAt: c.created_at.toISOString(),
});

const idTaken = (what: string, id: string) => new ApiError(ApiOnlyCode.ID_EXISTS, `a ${what} with id ${id} already exists`);
const notFound = (what: string, id: string) => new ApiError(ErrorCode.NOT_FOUND, `${what} ${id} not found`);

const tags = ['operator'];
const idTakenError = { 409: refusal('ID_EXISTS: a given id is taken') };
const CompanyParams = z.object({ id: PathId });
const ModuleParams = z.object({ id: PathId, module: ModuleName });
const KeyParams = z.object({ keyId: PathId });
/** Fan-outs a module switch starts itself; beyond these the relay starts them (an answer in seconds). */
const MAX_DIRECT_FANOUTS = 100;
/** A new key is shown once: the idempotency record keeps `apiKey: null`, so a replay answers null. */
const shownOnce = { idempotencyRedact: ['apiKey'] } as const;

export function operatorRoutes(deps: OperatorDeps) {
  const { db } = deps;

  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, db, 'operator');
    registerIdempotency(app, db);

    app.post(
      '/v1/contracting-companies',
      { schema: { tags, summary: 'Create a contracting company', body: CreateCompanyBody, response: { 201: Company, ...idTakenError } } },
      async (request, reply) => {
        const { body } = request;
        const row = await insertCompany(db, { id: body.id ?? generateEntityId(), name: body.name });
        if (!row) throw idTaken('contracting company', body.id ?? '');
        return reply.code(201).send(companyView(row));
      },
    );

    app.get(
      '/v1/contracting-companies/:id',
      { schema: { tags, summary: 'A contracting company with its modules and clients', params: CompanyParams, response: { 200: CompanyDetail } } },
      async (request) => {
        const { id } = request.params;
        const company = await getCompany(db, id);
        if (!company) throw notFound('contracting company', id);
        const [modules, clients] = await Promise.all([listModules(db, id), listClientsOfCompany(db, id)]);
        return {
          ...companyView(company),
          modules: modules.map((m) => ({ module: m.module, active: m.active, changedAt: m.changed_at.toISOString() })),
          clients: clients.map(clientView),
        };
      },
    );

    for (const [method, active] of [['PUT', true], ['DELETE', false]] as const) {
      app.route({
        method,
        url: '/v1/contracting-companies/:id/modules/:module',
        schema: { tags, summary: `Switch a contract module ${active ? 'on' : 'off'}; connections are told`, params: ModuleParams, response: { 204: NoContent } },
        handler: async (request, reply) => {
          const { id, module } = request.params;
          if (!(await getCompany(db, id))) throw notFound('contracting company', id);
          // Database first: the switch and the availability versions of every pair it may change
          // (non-final connections with a client of the company on either side) in one transaction.
          const { revision, pairs } = await db.transaction().execute(async (trx) => {
            const revision = await setModule(trx, id, module, active);
            await appendAuditEntry(trx, actorOf(request), { action: 'module.switched', subject: `${id}/${module}`, details: { companyId: id, module, active, revision } });
            // Only this module decides availability (view available_pairs).
            const pairs = module === CROSS_CLIENT_MODULE ? await listOpenPairsOfCompany(trx, id) : [];
            for (let i = 0; i < pairs.length; i += 1000) await touchPairs(trx, pairs.slice(i, i + 1000));
            return { revision, pairs };
          });
          // Then Temporal, best effort: what is not started here, the worker's relay starts (the
          // switch's revision and the pairs' versions are the outbox), so the switch is answered
          // 204 once committed, whether or not Temporal answers now.
          const told = await startModuleFanouts({ db, ...deps.temporal }, { contractingCompanyId: id }, { startDeadlineMs: deps.temporalDeadlineMs }).catch((err: unknown) => [
            { outcome: 'failed', error: err },
          ]);
          const notTold = told.filter((s) => s.outcome === 'failed');
          if (notTold.length > 0) request.log.warn({ companyId: id, revision, error: String(notTold[0]!.error) }, 'module fan-out left to the relay');
          const direct = pairs.slice(0, MAX_DIRECT_FANOUTS);
          const starts = await startPairFanouts({ db, ...deps.temporal }, direct, { startDeadlineMs: deps.temporalDeadlineMs }).catch((err: unknown) => [
            { outcome: 'failed', error: err },
          ]);
          const failed = starts.filter((s) => s.outcome === 'failed');
          if (failed.length > 0) request.log.warn({ companyId: id, failed: failed.length, error: String(failed[0]!.error) }, 'availability fan-outs left to the relay');
          return reply.code(204).send();
        },
      });
    }

    app.post(
      '/v1/clients',
      {
        config: shownOnce,
        schema: {
          tags,
          summary: 'Create a client and its first API key',
          body: CreateClientBody,
          response: {
            201: z.object({ client: Client, apiKey: ShownOnceKey }),
            404: refusal('NOT_FOUND: no such contracting company'),
            ...idTakenError,
          },
        },
      },
      async (request, reply) => {
        const { body } = request;
        if (!(await getCompany(db, body.contractingCompanyId))) throw notFound('contracting company', body.contractingCompanyId);
        const id = body.id ?? generateEntityId();
        // One transaction: a client never exists without its key, nor a key without its client.
        const result = await db.transaction().execute(async (trx) => {
          const row = await insertClient(trx, { id, contracting_company_id: body.contractingCompanyId, name: body.name, email: body.email, language: body.language });
          if (!row) throw idTaken('client', id);
          const { apiKey } = await createApiKey(trx, clientPrincipal(row.id), actorOf(request));
          return { client: clientView(row), apiKey };
        });
        return reply.code(201).send(result);
      },
    );

    app.post(
      '/v1/clients/:id/api-keys',
      { config: shownOnce, schema: { tags, summary: 'Another API key for a client (shown once)', params: CompanyParams, response: { 201: ApiKeyCreated } } },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await getClient(db, id))) throw notFound('client', id);
        return reply.code(201).send(await createApiKey(db, clientPrincipal(id), actorOf(request)));
      },
    );

    app.post(
      '/v1/viewer-keys',
      { config: shownOnce, schema: { tags, summary: 'A key for the read-only viewer (product owners, support; shown once)', response: { 201: ApiKeyCreated } } },
      async (request, reply) => reply.code(201).send(await createApiKey(db, viewerPrincipal, actorOf(request))),
    );

    app.delete(
      '/v1/api-keys/:keyId',
      { schema: { tags, summary: 'Revoke an API key at once', params: KeyParams, response: { 204: NoContent } } },
      async (request, reply) => {
        const { keyId } = request.params;
        if (!(await revokeKey(db, keyId, actorOf(request)))) throw notFound('API key', keyId);
        return reply.code(204).send();
      },
    );
  };
}
