/**
 * GET /v1/events (issue 12): the change feed of the caller's connections, carts, orders and payout
 * rows, oldest first, resumable from any item's `seq` (or `nextCursor`). Each change is recorded in
 * the transaction that makes it (db/event.repository.ts), so nothing the read model shows is
 * missing from the feed, and a position once passed never gains a row (docs/decisions.md).
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodePosition, listEvents, POSITION_PATTERN } from '../../db/event.repository.ts';
import type { Database } from '../../db/schema.ts';
import { EVENT_TYPES } from '../../domain/event.ts';
import { authenticateRoutes, callerOf } from '../auth.ts';
import { withZod } from '../validation.ts';

const EventsQuery = z.strictObject({
  after: z
    .string()
    .regex(POSITION_PATTERN)
    .optional()
    .describe("resume after this position: a `nextCursor` or any item's `seq` (omit to read from the start)"),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const Event = z.object({
  seq: z.string().describe('the position of this change in the caller\'s feed (opaque; pass it as `after` to resume behind it)'),
  type: z.enum(EVENT_TYPES).describe(
    'connection.changed (data: event, actor, status, offerAccess, blockedBy, parties, version); cart.changed (status, title, unavailableOfferIds, version); ' +
      'order.recorded / order.refunded / order.chargedBack / order.renewed (seller only: orderId, movement, payoutRowIds); payout.created / payout.paid (the payout row)',
  ),
  entityId: z.string().describe('connection, cart or payout row id; the checkout\'s order id for order events'),
  at: z.string().describe('when the change committed (the time of its transaction)'),
  data: z.record(z.string(), z.unknown()),
});
const EventPage = z.object({
  items: z.array(Event),
  nextCursor: z.string().nullable().describe('where to resume: the last item\'s seq, or `after` again when nothing new has committed (null only for an empty feed read from the start)'),
});

export function eventRoutes(deps: { db: Kysely<Database> }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    app.get(
      '/v1/events',
      {
        schema: {
          tags: ['events'],
          summary: "The change feed of the caller's connections, carts, orders and payout rows, oldest first",
          querystring: EventsQuery,
          response: { 200: EventPage },
        },
      },
      async (request) => {
        const { after, limit } = request.query;
        const items = await listEvents(deps.db, { clientId: callerOf(request), after: after === undefined ? undefined : decodePosition(after), limit });
        return {
          items: items.map((e) => ({ seq: e.seq, type: e.type as (typeof EVENT_TYPES)[number], entityId: e.entityId, at: e.at.toISOString(), data: e.data as Record<string, unknown> })),
          nextCursor: items.at(-1)?.seq ?? after ?? null,
        };
      },
    );
  };
}
