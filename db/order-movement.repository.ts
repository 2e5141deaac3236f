/**
 * Later money movements on an order (refunds, chargebacks, recurring payments): the order row
 * locked for the movement's transaction, the movement record (key + request hash), and the payout
 * rows of the order. The caller owns the transaction: lock, check and write in one.
 */
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { PayoutType } from '../domain/payout.ts';
import type { Database, OrderRow, PayoutRowRecord, PayoutRowTable } from './schema.ts';

export type MovementType = PayoutType;

/**
 * The seller's order by its checkout id, row-locked until the transaction ends: every movement of
 * one order runs one after the other, so no two can pass a cap on the same rows.
 */
export async function lockSellerOrder(trx: Transaction<Database>, sellerClientId: string, orderId: string): Promise<OrderRow | undefined> {
  return trx.selectFrom('orders').selectAll().where('seller_client_id', '=', sellerClientId).where('order_id', '=', orderId).forUpdate().executeTakeFirst();
}

export async function getMovement(
  db: Kysely<Database>,
  key: { orderRef: string; type: MovementType; movementId: string },
): Promise<{ request_hash: string } | undefined> {
  return db
    .selectFrom('order_movements')
    .select('request_hash')
    .where('order_ref', '=', key.orderRef)
    .where('type', '=', key.type)
    .where('movement_id', '=', key.movementId)
    .executeTakeFirst();
}

export async function insertMovement(
  db: Kysely<Database>,
  movement: { orderRef: string; type: MovementType; movementId: string; requestHash: string },
): Promise<void> {
  await db
    .insertInto('order_movements')
    .values({ order_ref: movement.orderRef, type: movement.type, movement_id: movement.movementId, request_hash: movement.requestHash })
    .execute();
}

/** Every payout row of the order (all types), oldest first. */
export async function payoutRowsOfOrder(db: Kysely<Database>, orderRef: string): Promise<PayoutRowRecord[]> {
  return db.selectFrom('payout_rows').selectAll().where('order_ref', '=', orderRef).orderBy('created_at').orderBy('id').execute();
}

/** The payout rows one movement wrote. */
export async function payoutRowsOfMovement(db: Kysely<Database>, key: { orderRef: string; type: MovementType; movementId: string }): Promise<PayoutRowRecord[]> {
  return db
    .selectFrom('payout_rows')
    .selectAll()
    .where('order_ref', '=', key.orderRef)
    .where('type', '=', key.type)
    .where('movement_id', '=', key.movementId)
    .orderBy('id')
    .execute();
}

export async function insertPayoutRows(db: Kysely<Database>, rows: Insertable<PayoutRowTable>[]): Promise<PayoutRowRecord[]> {
  if (rows.length === 0) return [];
  return db.insertInto('payout_rows').values(rows).returningAll().execute();
}
