/**
 * Client routes of the payout list (issue 8): the page, the CSV export, the settlement statement,
 * paid status of one row and marking a pair's rows paid. The acting client is the key's
 * principal; a row exists only for its two parties (others: 404 / nothing). Thin: validate, then
 * payout.service.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { actorOf, authenticateRoutes, callerOf } from '../auth.ts';
import { registerIdempotency } from '../idempotency.ts';
import {
  ListPayoutsQuery,
  MarkPaidBody,
  MarkPaidResult,
  PaidStatusBody,
  PayoutCsv,
  PayoutCsvQuery,
  PayoutList,
  PayoutRow,
  PayoutSummary,
  PayoutSummaryQuery,
} from '../payout.schemas.ts';
import { CSV_CONTENT_TYPE, listPayouts, markPaid, payoutCsvStream, payoutSummary, setPaidStatus } from '../payout.service.ts';
import { IdParam, refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['payouts'];

export function payoutRoutes(deps: { db: Kysely<Database> }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerIdempotency(app, deps.db);

    app.get(
      '/v1/payouts',
      {
        schema: {
          tags,
          summary: "The caller's payout rows (as source or as seller), newest first",
          querystring: ListPayoutsQuery,
          response: { 200: PayoutList },
        },
      },
      async (request) => listPayouts(deps.db, callerOf(request), request.query),
    );

    app.get(
      '/v1/payouts.csv',
      {
        schema: {
          tags,
          summary: "The caller's payout rows as CSV (same filters as the list, streamed, newest first)",
          querystring: PayoutCsvQuery,
          response: { 200: PayoutCsv },
        },
      },
      async (request, reply) =>
        reply
          .type(CSV_CONTENT_TYPE)
          .header('content-disposition', 'attachment; filename="payouts.csv"')
          // A stream where the document says text: the type provider knows no streams.
          .send(payoutCsvStream(deps.db, callerOf(request), request.query) as unknown as string),
    );

    app.get(
      '/v1/payouts/summary',
      {
        schema: {
          tags,
          summary: 'Settlement statement: count and sums per client pair, currency, type and paid status over the caller’s rows',
          querystring: PayoutSummaryQuery,
          response: { 200: PayoutSummary },
        },
      },
      async (request) => payoutSummary(deps.db, callerOf(request), request.query),
    );

    app.put(
      '/v1/payouts/:id/paid-status',
      {
        schema: {
          tags,
          summary: 'Mark a row paid (either party); paid is final: PAID → OPEN is 409 PAYOUT_ALREADY_PAID',
          params: IdParam,
          body: PaidStatusBody,
          response: { 200: PayoutRow, 409: refusal('PAYOUT_ALREADY_PAID: PAID → OPEN') },
        },
      },
      async (request) => setPaidStatus(deps.db, callerOf(request), request.params.id, request.body.paidStatus, actorOf(request)),
    );

    app.post(
      '/v1/payouts/mark-paid',
      {
        schema: {
          tags,
          summary: "Mark every OPEN row of the caller's pairs created before `until` paid, in one transaction",
          body: MarkPaidBody,
          response: { 200: MarkPaidResult },
        },
      },
      async (request) => markPaid(deps.db, callerOf(request), request.body, actorOf(request)),
    );
  };
}
