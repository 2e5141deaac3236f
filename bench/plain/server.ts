/**
 * The baseline as one process (`node --import tsx bench/plain/server.ts`): its worker (own bundle,
 * own task queue), its outbox relay and its HTTP hop — Fastify, an API key looked up in Postgres
 * per request, JSON bodies, update failures mapped to 4xx, every Temporal call under a 30 s
 * deadline. Configured by env: TEMPORAL_ADDRESS, DATABASE_URL, SMTP_URL, PORT, PLAIN_TASK_QUEUE,
 * PLAIN_MAIL_FROM, PLAIN_MODE (`effects`, or `limit`: no activities, no relay, keys and connection
 * ids kept in memory after their first lookup — the same lifecycle with nothing but Temporal),
 * PLAIN_CALLBACKS=1 (bench:purchases --callbacks: a sale also writes a callback to the source if
 * its connection has one, and a relay sends them; off, the baseline is exactly what it was).
 */
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  Client,
  Connection,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import pg from 'pg';
import { createPlainActivities } from './activities.ts';
import {
  acceptUpdate,
  blockUpdate,
  inviteUpdate,
  PLAIN_RULES_VERSION,
  plainWorkflowId,
  sa,
  setOfferAccessUpdate,
  type Party,
  type PlainConnectionInput,
  type PlainPurchaseItem,
} from './messages.ts';
import { startCallbackRelay } from './callback-relay.ts';
import { startOutboxRelay } from './relay.ts';
import { PLAIN_WORKER_SETTINGS } from './settings.ts';
import type { plainConnectionWorkflow, plainPurchaseWorkflow } from './workflow.ts';

/**
 * The plain hop waits as long as an HTTP client would (30 s), so at 50 callers it completes every
 * lifecycle however slow the server gets: a baseline that sheds work would flatter the product's
 * throughput ratio. (The product answers within 5 s and queues the excess before Temporal.)
 */
const TEMPORAL_DEADLINE_MS = 30_000;
const INVITATION_TTL_MS = 30 * 24 * 3600 * 1000;

const env = process.env;
const effects = env.PLAIN_MODE !== 'limit';
const callbacks = effects && env.PLAIN_CALLBACKS === '1';
const taskQueue = env.PLAIN_TASK_QUEUE ?? 'plain';
const idPrefix = effects ? 'plain' : 'limit';

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}
const STATUS: Record<string, number> = { NOT_FOUND: 404, FORBIDDEN_ACTOR: 403, INVALID_TRANSITION: 409, CONNECTION_EXISTS: 409, ORDER_CONFLICT: 409, INVALID_REQUEST: 400, ITEM_UNAVAILABLE: 422, SELF_CONNECTION: 422, CONTRACT_MODULE_INACTIVE: 422 };

/** A refusal from a validator or a failed run as its HTTP answer; anything else: outcome unknown. */
function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  let cause = err instanceof WorkflowUpdateFailedError || err instanceof WorkflowFailedError ? err.cause : undefined;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type && STATUS[cause.type]) return new HttpError(STATUS[cause.type]!, cause.type, cause.message);
  return new HttpError(503, 'UNAVAILABLE', `outcome unknown: ${err instanceof Error ? err.message : String(err)}`);
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 20 });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const address = env.TEMPORAL_ADDRESS!;
  const client = new Client({ connection: await Connection.connect({ address }) });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflow.ts', import.meta.url)), logger: new DefaultLogger('WARN') }),
    activities: createPlainActivities(pool, client, { callbacks }),
    ...PLAIN_WORKER_SETTINGS,
  });
  const running = worker.run();
  const relay = effects ? startOutboxRelay(pool, env.SMTP_URL!, env.PLAIN_MAIL_FROM ?? 'Plain <plain@bench-sink.net>') : undefined;
  const callbackRelay = callbacks ? startCallbackRelay(pool) : undefined;

  // ── the HTTP hop ────────────────────────────────────────────────────────────────────────────
  const keyCache = new Map<string, Party>();
  const connectionCache = new Map<string, { source: string; target: string; workflowId: string }>();
  const callerOf = async (request: FastifyRequest): Promise<Party> => {
    const key = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!key) throw new HttpError(401, 'UNAUTHENTICATED', 'missing API key');
    const hash = createHash('sha256').update(key).digest('hex');
    const cached = effects ? undefined : keyCache.get(hash);
    if (cached) return cached;
    const { rows } = await pool.query(
      `select c.client_id as "clientId", c.name, c.email, c.language from plain.api_keys k join plain.clients c using (client_id) where k.key_hash = $1`,
      [hash],
    );
    if (!rows[0]) throw new HttpError(401, 'UNAUTHENTICATED', 'unknown API key');
    if (!effects) keyCache.set(hash, rows[0]);
    return rows[0];
  };
  const updateId = (request: FastifyRequest, name: string, id: string) => {
    const key = request.headers['idempotency-key'];
    return typeof key === 'string' ? `${name}:${id}:${key}` : undefined;
  };
  /** The connection if the caller is a party of it (404 otherwise). */
  const connectionOf = async (id: string, caller: Party) => {
    let row = connectionCache.get(id);
    if (!row && effects) {
      const res = await pool.query(`select source_client_id as source, target_client_id as target, workflow_id as "workflowId" from plain.connections where id = $1`, [id]);
      row = res.rows[0];
    }
    if (!row || (row.source !== caller.clientId && row.target !== caller.clientId)) throw new HttpError(404, 'NOT_FOUND', 'connection not found');
    return row;
  };
  const temporal = <T>(fn: () => Promise<T>) => client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);

  const app = Fastify({ logger: false });
  app.setErrorHandler((err, _request, reply: FastifyReply) => {
    const validation = (err as { validation?: unknown }).validation;
    const e = validation ? new HttpError(400, 'INVALID_REQUEST', (err as Error).message) : toHttpError(err);
    void reply.code(e.status).send({ error: { code: e.code, message: e.message } });
  });
  app.get('/health', async () => ({ ok: true }));

  const inviteBody = {
    type: 'object',
    required: ['targetClientId', 'offerAccess'],
    properties: {
      targetClientId: { type: 'string', pattern: '^[A-Z0-9]{20}$' },
      offerAccess: { type: 'boolean' },
      callback: {
        type: 'object',
        required: ['url', 'secret'],
        properties: { url: { type: 'string', pattern: '^https?://' }, secret: { type: 'string', minLength: 16 } },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  };
  app.post<{ Body: { targetClientId: string; offerAccess: boolean; callback?: { url: string; secret: string } } }>('/v1/connections', { schema: { body: inviteBody } }, async (request, reply) => {
    const source = await callerOf(request);
    const { targetClientId, offerAccess, callback } = request.body;
    if (targetClientId === source.clientId) throw new HttpError(422, 'SELF_CONNECTION', 'no connection to oneself');
    const { rows } = await pool.query(`select client_id as "clientId", name, email, language, module_active from plain.clients where client_id = $1`, [targetClientId]);
    if (!rows[0]) throw new HttpError(404, 'TARGET_NOT_FOUND', 'no such client');
    if (!rows[0].module_active) throw new HttpError(422, 'CONTRACT_MODULE_INACTIVE', 'the contract module is off for the target');
    const { module_active: _, ...target } = rows[0];
    const connectionId = randomUUID();
    // Stored before the workflow starts, so no sale can happen before the callback is known; the
    // secret stays out of the workflow's history.
    if (callback) await pool.query(`insert into plain.connection_callbacks values ($1, $2, $3)`, [connectionId, callback.url, callback.secret]);
    const workflowId = plainWorkflowId(idPrefix, source.clientId, targetClientId);
    const input: PlainConnectionInput = { connectionId, source, target, offerAccess, invitationTtlMs: INVITATION_TTL_MS, effects };
    const start = new WithStartWorkflowOperation<typeof plainConnectionWorkflow>('plainConnectionWorkflow', {
      workflowId,
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: sa.ConnectionStatus, value: 'invited' },
        { key: sa.OfferAccess, value: offerAccess },
        { key: sa.SourceClientId, value: source.clientId },
        { key: sa.TargetClientId, value: targetClientId },
        { key: sa.RuleSetVersion, value: PLAIN_RULES_VERSION },
      ],
      staticSummary: `${source.name} invites ${target.name}`,
    });
    const view = await temporal(() =>
      client.workflow.executeUpdateWithStart(inviteUpdate, {
        args: [{ connectionId, actor: source.clientId }],
        startWorkflowOperation: start,
        updateId: updateId(request, 'invite', source.clientId),
      }),
    );
    if (!effects) connectionCache.set(view.id, { source: source.clientId, target: targetClientId, workflowId });
    return reply.code(201).send(view);
  });

  const command = (name: string, run: (workflowId: string, args: { connectionId: string; actor: string }, request: FastifyRequest) => Promise<unknown>) =>
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      const caller = await callerOf(request);
      const connection = await connectionOf(request.params.id, caller);
      return temporal(() => run(connection.workflowId, { connectionId: request.params.id, actor: caller.clientId }, request));
    };
  const idParams = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } };
  app.post('/v1/connections/:id/accept', { schema: { params: idParams } }, command('accept', (wf, args, req) =>
    client.workflow.getHandle(wf).executeUpdate(acceptUpdate, { args: [args], updateId: updateId(req, 'accept', args.connectionId) })));
  app.post('/v1/connections/:id/block', { schema: { params: idParams } }, command('block', (wf, args, req) =>
    client.workflow.getHandle(wf).executeUpdate(blockUpdate, { args: [args], updateId: updateId(req, 'block', args.connectionId) })));
  const patchBody = { type: 'object', required: ['offerAccess'], properties: { offerAccess: { type: 'boolean' } }, additionalProperties: false };
  app.patch('/v1/connections/:id', { schema: { params: idParams, body: patchBody } }, command('setOfferAccess', (wf, args, req) =>
    client.workflow.getHandle(wf).executeUpdate(setOfferAccessUpdate, {
      args: [{ ...args, offerAccess: (req.body as { offerAccess: boolean }).offerAccess }],
      updateId: updateId(req, 'setOfferAccess', args.connectionId),
    })));

  const purchaseBody = {
    type: 'object',
    required: ['orderId', 'customerId', 'paymentMethod', 'currency', 'items'],
    properties: {
      orderId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
      customerId: { type: 'string', minLength: 1 },
      paymentMethod: { type: 'string', minLength: 1 },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      items: { type: 'array', minItems: 1, items: { type: 'object', required: ['offerId', 'amountMinor'], properties: { offerId: { type: 'string' }, amountMinor: { type: 'integer', minimum: 0 } } } },
    },
  };
  interface PurchaseBody { orderId: string; customerId: string; paymentMethod: string; currency: string; items: Array<{ offerId: string; amountMinor: number }> }
  app.post<{ Params: { id: string }; Body: PurchaseBody }>('/v1/carts/:id/purchases', { schema: { params: idParams, body: purchaseBody } }, async (request, reply) => {
    const seller = await callerOf(request);
    const body = request.body;
    const { rows } = await pool.query(`select status, currency, items from plain.carts where id = $1 and seller_client_id = $2`, [request.params.id, seller.clientId]);
    const cart = rows[0];
    if (!cart) throw new HttpError(404, 'NOT_FOUND', 'cart not found');
    if (cart.status !== 'active') throw new HttpError(409, 'INVALID_TRANSITION', `the cart is ${cart.status}`);
    if (body.currency !== cart.currency) throw new HttpError(422, 'CURRENCY_MISMATCH', `the cart sells in ${cart.currency}`);
    const inCart = new Map((cart.items as Array<Omit<PlainPurchaseItem, 'amountMinor'>>).map((i) => [i.offerId, i]));
    const items = body.items.map((i) => {
      const item = inCart.get(i.offerId);
      if (!item) throw new HttpError(422, 'ITEM_UNAVAILABLE', `offer ${i.offerId} is not in this cart`);
      return { ...item, amountMinor: i.amountMinor };
    });
    const sources = [...new Set(items.flatMap((i) => (i.sourceClientId ? [i.sourceClientId] : [])))];
    const workflowId = `${idPrefix}-purchase:${seller.clientId}:${body.orderId}`;
    try {
      const order = await temporal(() =>
        client.workflow.execute<typeof plainPurchaseWorkflow>('plainPurchaseWorkflow', {
          workflowId,
          taskQueue,
          args: [{ sellerClientId: seller.clientId, orderId: body.orderId, cartId: request.params.id, customerId: body.customerId, paymentMethod: body.paymentMethod, currency: body.currency, items,
            connectionWorkflowIds: Object.fromEntries(sources.map((s) => [s, plainWorkflowId(idPrefix, s, seller.clientId)])) }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: sa.OrderId, value: body.orderId },
            { key: sa.PurchaseStatus, value: 'authorizing' },
            { key: sa.ClientId, value: seller.clientId },
          ],
          staticSummary: `${seller.name}: order ${body.orderId}`,
        }),
      );
      return reply.code(201).send(order);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // The order's run has closed: its result is the answer (a retry of the same order).
      return reply.code(200).send(await temporal(() => client.workflow.getHandle(workflowId).result()));
    }
  });

  await app.listen({ host: '127.0.0.1', port: Number(env.PORT ?? 0) });
  const stop = async () => {
    await app.close();
    await relay?.stop();
    await callbackRelay?.stop();
    worker.shutdown();
    await running;
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  console.log(`plain ${effects ? 'baseline' : 'limit'} on http://127.0.0.1:${(app.server.address() as { port: number }).port}, task queue ${taskQueue}`);
  await running;
}

await main();
