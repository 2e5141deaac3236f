/**
 * Client routes for carts: create, read, and one route per declared command
 * (machines/cart.commands.ts). The seller is the key's principal; other clients get 404.
 */
import type { FastifyInstance } from 'fastify';
import { listCarts, toCartView } from '../../db/cart.repository.ts';
import { cartCommands } from '../../machines/cart.commands.ts';
import { callerOf, authenticateRoutes } from '../auth.ts';
import { Cart, CartList, CreateCartBody, ListCartsQuery } from '../cart.schemas.ts';
import { createCart, runCartCommand, visibleCart, type CartServiceDeps } from '../cart.service.ts';
import { commandErrors, commandRoutes } from '../command-routes.ts';
import { mintedIdOf, registerIdempotency, updateIdOf } from '../idempotency.ts';
import { IdParam } from '../schemas.ts';
import { withZod } from '../validation.ts';
import { registerAdmission, type AdmissionGate } from '../admission.ts';

const tags = ['carts'];

export function cartRoutes(deps: CartServiceDeps & { admission: AdmissionGate }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerAdmission(app, deps.admission); // before the Idempotency-Key is claimed: a 429 is never recorded
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/carts',
      { schema: { tags, summary: 'Create a cart (draft) of own and external offers', body: CreateCartBody, response: { 201: Cart, 422: commandErrors[422] } } },
      async (request, reply) => {
        const view = await createCart(deps, {
          sellerClientId: callerOf(request),
          title: request.body.title,
          items: request.body.items,
          cartId: mintedIdOf(request),
          updateId: updateIdOf(request),
        });
        return reply.code(201).send(view);
      },
    );

    app.get(
      '/v1/carts',
      { schema: { tags, summary: 'Carts of the caller, newest first', querystring: ListCartsQuery, response: { 200: CartList } } },
      async (request) => {
        const page = await listCarts(deps.db, { clientId: callerOf(request), ...request.query });
        return { items: page.items.map(toCartView), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/carts/:id',
      { schema: { tags, summary: 'One cart, with the availability of each item', params: IdParam, response: { 200: Cart } } },
      async (request) => toCartView(await visibleCart(deps.db, request.params.id, callerOf(request))),
    );

    commandRoutes(app, { resource: '/v1/carts', tags, table: cartCommands, response: Cart, run: (call) => runCartCommand(deps, call) });
  };
}
