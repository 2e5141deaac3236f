/**
 * Client routes for offers: create and patch one's own, list one's own, list and read the
 * cross-client offers shared with the caller right now. The owner is the key's principal, never a
 * body field. Thin: validate, then offer.service.ts.
 */
import type { FastifyInstance } from 'fastify';
import { listExternalOffers, listOwnOffers, toOfferView } from '../../db/offer.repository.ts';
import { callerOf, authenticateRoutes } from '../auth.ts';
import { mintedIdOf, registerIdempotency } from '../idempotency.ts';
import { createOffer, patchOffer, readOffer, type OfferServiceDeps } from '../offer.service.ts';
import {
  CreateOfferBody,
  ExternalOffer,
  ExternalOfferList,
  ListOffersQuery,
  Offer,
  OfferList,
  PatchOfferBody,
} from '../offer.schemas.ts';
import { IdParam, refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['offers'];
const errors = {
  404: refusal('TARGET_NOT_FOUND: a connected client that does not exist'),
  422: refusal('SELF_CONNECTION (the owner among its targets), CONTRACT_MODULE_INACTIVE (sharing more while the module is off)'),
};

export function offerRoutes(deps: OfferServiceDeps) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/offers',
      { schema: { tags, summary: 'Create an offer (the caller is the owner)', body: CreateOfferBody, response: { 201: Offer, ...errors } } },
      async (request, reply) => {
        const view = await createOffer(deps, { ownerClientId: callerOf(request), offerId: mintedIdOf(request), body: request.body }, request.log);
        return reply.code(201).send(view);
      },
    );

    app.get(
      '/v1/offers',
      { schema: { tags, summary: 'Offers of the caller, newest first', querystring: ListOffersQuery, response: { 200: OfferList } } },
      async (request) => {
        const page = await listOwnOffers(deps.db, { clientId: callerOf(request), ...request.query });
        return { items: page.items.map(toOfferView), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/offers/external',
      {
        schema: {
          tags,
          summary: "Other clients' offers shared with the caller right now (read-only)",
          querystring: ListOffersQuery,
          response: { 200: ExternalOfferList },
        },
      },
      async (request) => listExternalOffers(deps.db, { clientId: callerOf(request), ...request.query }),
    );

    app.get(
      '/v1/offers/:id',
      {
        schema: {
          tags,
          summary: 'One offer: the owner sees it whole, a target it reaches right now sees its external view',
          params: IdParam,
          response: { 200: Offer.or(ExternalOffer) },
        },
      },
      async (request) => (await readOffer(deps.db, request.params.id, callerOf(request))).view,
    );

    app.patch(
      '/v1/offers/:id',
      { schema: { tags, summary: 'Change an offer (owner; the currency never changes)', params: IdParam, body: PatchOfferBody, response: { 200: Offer, ...errors } } },
      async (request) => patchOffer(deps, { callerClientId: callerOf(request), offerId: request.params.id, body: request.body }, request.log),
    );
  };
}
