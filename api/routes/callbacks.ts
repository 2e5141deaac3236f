/**
 * Client routes of callbacks (docs/callbacks.md): the source changes its callback, reads the log
 * of deliveries with every attempt, redelivers one, and claims an order by the code a callback
 * carried. Thin: validate, then callback.service.ts / connection.service.ts.
 */
import type { FastifyInstance } from 'fastify';
import { callerOf, authenticateRoutes } from '../auth.ts';
import { CallbackBody, CallbackDelivery, CallbackDeliveryList, ClaimAnswer, ClaimBody, DeliveriesQuery, DeliveryParams } from '../callback.schemas.ts';
import { claim, deliveriesOf, redeliverCallback } from '../callback.service.ts';
import { setCallback, type ConnectionServiceDeps } from '../connection.service.ts';
import { registerIdempotency } from '../idempotency.ts';
import { Connection, IdParam, refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';
import { present } from './connections.ts';

const tags = ['callbacks'];
const sourceOnly = { 403: refusal('FORBIDDEN_ACTOR: the target of the connection (only the source may)') };

export function callbackRoutes(deps: ConnectionServiceDeps) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerIdempotency(app, deps.db);

    app.put(
      '/v1/connections/:id/callback',
      {
        schema: {
          tags,
          summary: 'Change the callback URL and secret (source); used from the next delivery attempt, the connection goes on',
          params: IdParam,
          body: CallbackBody,
          response: { 200: Connection, ...sourceOnly },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return present(await setCallback(deps, { connectionId: request.params.id, callerClientId: caller, ...request.body }), caller);
      },
    );

    app.get(
      '/v1/connections/:id/callbacks',
      {
        schema: {
          tags,
          summary: 'Callback deliveries of the connection, newest first, each with every attempt (source)',
          params: IdParam,
          querystring: DeliveriesQuery,
          response: { 200: CallbackDeliveryList, ...sourceOnly },
        },
      },
      async (request) => deliveriesOf(deps.db, { connectionId: request.params.id, callerClientId: callerOf(request), ...request.query }),
    );

    app.post(
      '/v1/connections/:id/callbacks/:deliveryId/redeliver',
      {
        schema: {
          tags,
          summary: 'Deliver a callback again, with the same delivery id and body and a fresh 3-day window (source)',
          params: DeliveryParams,
          response: { 202: CallbackDelivery, ...sourceOnly },
        },
      },
      async (request, reply) => {
        const view = await redeliverCallback(deps.db, { connectionId: request.params.id, deliveryId: request.params.deliveryId, callerClientId: callerOf(request) });
        return reply.code(202).send(view);
      },
    );

    app.post(
      '/v1/claims',
      {
        schema: {
          tags,
          summary: "Link a cross-client order to the source's own customer by the claim code of its callback (source); never returns the seller's customer",
          body: ClaimBody,
          response: { 200: ClaimAnswer, 404: refusal('NOT_FOUND: no such code for this client'), 409: refusal('ORDER_CONFLICT: the code was claimed for another customer') },
        },
      },
      async (request) => claim(deps.db, { code: request.body.code, customerId: request.body.customerId, sourceClientId: callerOf(request) }),
    );
  };
}
