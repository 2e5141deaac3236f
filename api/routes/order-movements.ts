/**
 * Client routes for later money movements on an order: refunds, chargebacks and recurring
 * payments. Only the order's seller (the key's principal); anyone else 404. Thin: validate, then
 * order-movement.service.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { callerOf, authenticateRoutes } from '../auth.ts';
import { registerIdempotency } from '../idempotency.ts';
import { recordOrderMovement } from '../order-movement.service.ts';
import {
  ChargebackBody,
  ChargebackCreated,
  OrderIdParam,
  RecurringPaymentBody,
  RecurringPaymentCreated,
  RefundBody,
  RefundCreated,
} from '../order-movement.schemas.ts';
import { refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['orders'];
const errors = {
  409: refusal('ORDER_CONFLICT: the movement id with another body, or a renewal whose paymentId is the order id'),
  422: refusal('ITEM_UNAVAILABLE (an offer not in the order), REFUND_EXCEEDS_PAYMENT, RULE_REJECTED (details.rule)'),
};

export function orderMovementRoutes(deps: { db: Kysely<Database>; callbackQueue: string }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/orders/:orderId/refunds',
      {
        schema: {
          tags,
          summary: 'Refund items of an order (seller): REFUND rows with the shares of the original payment',
          params: OrderIdParam,
          body: RefundBody,
          response: { 201: RefundCreated, ...errors },
        },
      },
      async (request, reply) => {
        const { refundId, items } = request.body;
        const result = await recordOrderMovement(deps.db, { sellerClientId: callerOf(request), orderId: request.params.orderId, type: 'REFUND', movementId: refundId, items }, deps.callbackQueue);
        return reply.code(201).send({ orderId: result.orderId, refundId, rows: result.rows });
      },
    );

    app.post(
      '/v1/orders/:orderId/chargebacks',
      {
        schema: {
          tags,
          summary: 'Record a chargeback of items of an order (seller): LOSS rows with the shares of the original payment',
          params: OrderIdParam,
          body: ChargebackBody,
          response: { 201: ChargebackCreated, ...errors },
        },
      },
      async (request, reply) => {
        const { chargebackId, items } = request.body;
        const result = await recordOrderMovement(deps.db, { sellerClientId: callerOf(request), orderId: request.params.orderId, type: 'LOSS', movementId: chargebackId, items }, deps.callbackQueue);
        return reply.code(201).send({ orderId: result.orderId, chargebackId, rows: result.rows });
      },
    );

    app.post(
      '/v1/orders/:orderId/payments',
      {
        schema: {
          tags,
          summary: "Record a recurring payment of the order's subscription (seller): PAYMENT rows with the original shares",
          params: OrderIdParam,
          body: RecurringPaymentBody,
          response: { 201: RecurringPaymentCreated, ...errors },
        },
      },
      async (request, reply) => {
        const { paymentId, invoiceId, items } = request.body;
        const result = await recordOrderMovement(deps.db, {
          sellerClientId: callerOf(request),
          orderId: request.params.orderId,
          type: 'PAYMENT',
          movementId: paymentId,
          invoiceId,
          items,
        }, deps.callbackQueue);
        return reply.code(201).send({ orderId: result.orderId, paymentId, rows: result.rows });
      },
    );
  };
}
