/**
 * Client routes of the payout list (issue 8): the page, the CSV export, the settlement statement,
 * paid status of one row and marking a pair's rows paid. The acting client is the key's
 * principal; a row exists only for its two parties (others: 404 / nothing). Thin: validate, then
 * payout.service.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { callerOf, requirePrincipal } from '../auth.ts';
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
import { ErrorBody, IdParam } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['payouts'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

export function payoutRoutes(deps: { db: Kysely<Database> }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    app.addHook('onRequest', requirePrincipal(deps.db, 'client'));
    registerIdempotency(app, deps.db);

    app.get(
      '/v1/payouts',
      {
        schema: {
          tags,
          summary: "The caller's payout rows (as source or as seller), newest first",
          querystring: ListPayoutsQuery,
          response: { 200: PayoutList, ...errors },
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
          response: { 200: PayoutCsv, ...errors },
        },
      },
      async (request, reply) =>
        reply
          .type(CSV_CONTENT_TYPE)
          .header('content-disposition', 'attachment; filename="payouts.csv"')
          .send(payoutCsvStream(deps.db, callerOf(request), request.query)),
    );

    app.get(
      '/v1/payouts/summary',
      {
        schema: {
          tags,
          summary: 'Settlement statement: count and sums per client pair, currency, type and paid status over the caller’s rows',
          querystring: PayoutSummaryQuery,
          response: { 200: PayoutSummary, ...errors },
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
          response: { 200: PayoutRow, ...errors },
        },
      },
      async (request) => setPaidStatus(deps.db, callerOf(request), request.params.id, request.body.paidStatus),
    );

    app.post(
      '/v1/payouts/mark-paid',
      {
        schema: {
          tags,
          summary: "Mark every OPEN row of the caller's pairs created before `until` paid, in one transaction",
          body: MarkPaidBody,
          response: { 200: MarkPaidResult, ...errors },
        },
      },
      async (request) => markPaid(deps.db, callerOf(request), request.body),
    );
  };
}
