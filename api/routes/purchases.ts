/**
 * Client route for purchases: `POST /v1/carts/{id}/purchases`, the seller being the key's
 * principal (other clients get 404). 201 when this request recorded the order, 200 for the same
 * order again (same body), 409 ORDER_CONFLICT for the same order id with another body.
 */
import type { FastifyInstance } from 'fastify';
import { callerOf, authenticateRoutes } from '../auth.ts';
import { registerIdempotency } from '../idempotency.ts';
import { Order, PurchaseBody } from '../purchase.schemas.ts';
import { purchase, type PurchaseServiceDeps } from '../purchase.service.ts';
import { IdParam, refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';
import { registerAdmission, type AdmissionGate } from '../admission.ts';

const tags = ['purchases'];

export function purchaseRoutes(deps: PurchaseServiceDeps & { admission: AdmissionGate }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerAdmission(app, deps.admission); // before the Idempotency-Key is claimed: a 429 is never recorded
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/carts/:id/purchases',
      {
        schema: {
          tags,
          summary: 'Record a purchase from an active cart, with a payout row per cross-client item (seller)',
          params: IdParam,
          body: PurchaseBody,
          response: {
            201: Order,
            200: Order,
            409: refusal('INVALID_TRANSITION (the cart is not active), ORDER_CONFLICT (the order id with another body)'),
            422: refusal('ITEM_UNAVAILABLE, CURRENCY_MISMATCH, RULE_REJECTED (details.rule)'),
          },
        },
      },
      async (request, reply) => {
        const outcome = await purchase(deps, { sellerClientId: callerOf(request), cartId: request.params.id, body: request.body });
        return reply.code(outcome.created ? 201 : 200).send(outcome.order);
      },
    );
  };
}
