/**
 * The baseline's activities: per transition one upsert of its own connection row and the mail it
 * owes into its own outbox, in one transaction; per purchase the connection's authorization (an
 * update, its id making a retried attempt attach to the same one) and the order with its payout
 * rows and sale mail in one transaction. Mails are rendered with the product's templates, so both
 * send the same bytes. With `callbacks` (bench:purchases --callbacks) the same transaction also
 * writes one callback per source sold through whose connection has one (callback-relay.ts sends it).
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type pg from 'pg';
import { inTransaction } from './pass-loop.ts';
import { renderMail, type MailTemplate } from '../../activities/mail-templates.ts';
import { authorizeSaleUpdate, type Party, type PlainOrder, type PlainPurchaseInput, type PlainView, type SaleAuthorization } from './messages.ts';

export interface TransitionRecord {
  view: PlainView;
  source: Party;
  target: Party;
  mail: { template: string; to: 'source' | 'target' };
}

const facts = (p: Party) => ({ ...p, contractingCompanyId: '', moduleActive: true });

export function createPlainActivities(pool: pg.Pool, temporal: Client, { callbacks = false } = {}) {
  return {
    async recordTransition({ view, source, target, mail }: TransitionRecord): Promise<void> {
      const [recipient, other] = mail.to === 'source' ? [source, target] : [target, source];
      const { subject, text } = renderMail(mail.template as MailTemplate, recipient.language, {
        recipient: facts(recipient),
        other: facts(other),
        connectionId: view.id,
        offerAccess: view.offerAccess,
        expiresAt: view.expiresAt,
      });
      await inTransaction(pool, async (c) => {
        // A retried or overtaken attempt never moves the row back.
        await c.query(
          `insert into plain.connections (id, workflow_id, source_client_id, target_client_id, status, offer_access, blocked_by, version)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (id) do update set status = excluded.status, offer_access = excluded.offer_access,
             blocked_by = excluded.blocked_by, version = excluded.version, updated_at = now()
           where plain.connections.version < excluded.version`,
          [view.id, view.workflowId, view.sourceClientId, view.targetClientId, view.status, view.offerAccess, view.blockedBy, view.version],
        );
        await c.query(
          `insert into plain.outbox (message_id, recipient, subject, body) values ($1, $2, $3, $4) on conflict do nothing`,
          [`<plain.${view.id}.${view.version}.${mail.template}@plain>`, recipient.email, subject, text],
        );
      });
    },

    async authorizeAndRecordPurchase(input: PlainPurchaseInput): Promise<PlainOrder> {
      const sources = [...new Set(input.items.flatMap((i) => (i.sourceClientId ? [i.sourceClientId] : [])))];
      const sales = new Map<string, SaleAuthorization>();
      for (const sourceClientId of sources) {
        try {
          const handle = temporal.workflow.getHandle(input.connectionWorkflowIds[sourceClientId]!);
          const sale = await temporal.withDeadline(Date.now() + 4000, () =>
            handle.executeUpdate(authorizeSaleUpdate, { args: [{ actor: input.sellerClientId }], updateId: `sale:${input.sellerClientId}:${input.orderId}:${sourceClientId}` }),
          );
          sales.set(sourceClientId, sale);
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
            throw ApplicationFailure.create({ type: err.cause.type ?? 'ITEM_UNAVAILABLE', message: err.cause.message, nonRetryable: true });
          }
          throw err;
        }
      }
      const orderRef = randomUUID();
      const payouts = input.items
        .filter((i) => i.sourceClientId)
        .map((i) => ({ id: randomUUID(), sourceClientId: i.sourceClientId!, offerId: i.offerId, amountMinor: i.amountMinor, shareMinor: i.amountMinor, connectionId: sales.get(i.sourceClientId!)!.connectionId, costCenter: i.costCenter }));
      const mails = [...sales.entries()].map(([sourceClientId, sale]) => {
        const sold = input.items.filter((i) => i.sourceClientId === sourceClientId);
        const { subject, text } = renderMail('saleRecorded', sale.source.language, {
          recipient: facts(sale.source),
          other: facts(sale.target),
          connectionId: sale.connectionId,
          offerAccess: true,
          expiresAt: null,
          sale: { orderId: input.orderId, currency: input.currency, items: sold.map((i) => ({ offerId: i.offerId, title: i.title, amountMinor: i.amountMinor, shareMinor: i.amountMinor })) },
        });
        return [`<plain.purchase.${input.sellerClientId}.${input.orderId}.${sourceClientId}@plain>`, sale.source.email, subject, text];
      });
      // The source's part of the order, told to it; the secret and URL are copied in by the insert.
      const orderedAt = new Date().toISOString();
      const callbackRows = (callbacks ? [...sales.entries()] : []).map(([sourceClientId, sale]) => {
        const items = payouts.filter((p) => p.sourceClientId === sourceClientId).map((p) => ({ payoutId: p.id, offerId: p.offerId, costCenter: p.costCenter, amountMinor: p.amountMinor, shareMinor: p.shareMinor }));
        const order = {
          id: orderRef, orderId: input.orderId, sellerClientId: input.sellerClientId, sourceClientId, connectionId: sale.connectionId,
          paymentMethod: input.paymentMethod, currency: input.currency, orderedAt, items,
          totals: { amountMinor: items.reduce((n, i) => n + i.amountMinor, 0), shareMinor: items.reduce((n, i) => n + i.shareMinor, 0) },
        };
        return [randomUUID(), sale.connectionId, JSON.stringify({ event: 'ORDER_PURCHASED', order })];
      });
      return inTransaction(pool, async (c) => {
        const inserted = await c.query(
          `insert into plain.orders (id, seller_client_id, order_id, cart_id, customer_id, payment_method, currency, items)
           values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (seller_client_id, order_id) do nothing returning id`,
          [orderRef, input.sellerClientId, input.orderId, input.cartId, input.customerId, input.paymentMethod, input.currency, JSON.stringify(input.items.map((i) => ({ offerId: i.offerId, amountMinor: i.amountMinor })))],
        );
        if (inserted.rowCount === 0) return readOrder(c, input.sellerClientId, input.orderId); // a retried attempt after its commit
        for (const p of payouts) {
          await c.query(
            `insert into plain.payout_rows (id, type, source_client_id, connected_client_id, connection_id, order_ref, order_id, movement_id,
               offer_id, cost_center, payment_method, amount_minor, currency, share_basis_points, share_minor, rule_set_version)
             values ($1, 'PAYMENT', $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, 10000, $12, 'plain-v1')`,
            [p.id, p.sourceClientId, input.sellerClientId, p.connectionId, orderRef, input.orderId, p.offerId, p.costCenter, input.paymentMethod, p.amountMinor, input.currency, p.shareMinor],
          );
        }
        for (const m of mails) await c.query(`insert into plain.outbox (message_id, recipient, subject, body) values ($1, $2, $3, $4) on conflict do nothing`, m);
        for (const row of callbackRows) {
          await c.query(`insert into plain.callbacks (id, connection_id, url, secret, body) select $1, connection_id, url, secret, $3 from plain.connection_callbacks where connection_id = $2`, row);
        }
        return { id: orderRef, orderId: input.orderId, sellerClientId: input.sellerClientId, currency: input.currency, payouts: payouts.map(({ costCenter: _, ...p }) => p) };
      });
    },
  };
}

async function readOrder(c: pg.PoolClient, sellerClientId: string, orderId: string): Promise<PlainOrder> {
  const { rows } = await c.query(`select id, currency from plain.orders where seller_client_id = $1 and order_id = $2`, [sellerClientId, orderId]);
  const payouts = await c.query(
    `select id, source_client_id as "sourceClientId", offer_id as "offerId", amount_minor::int as "amountMinor", share_minor::int as "shareMinor", connection_id as "connectionId"
     from plain.payout_rows where order_ref = $1`,
    [rows[0].id],
  );
  return { id: rows[0].id, orderId, sellerClientId, currency: rows[0].currency, payouts: payouts.rows };
}

export type PlainActivities = ReturnType<typeof createPlainActivities>;
