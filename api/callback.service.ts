/**
 * The source's side of callbacks (docs/callbacks.md): its delivery log, redelivery, and claims.
 * Only the source of a connection sees its deliveries: the target gets 403, anyone else 404.
 */
import type { Kysely } from 'kysely';
import { attemptsOf, claimOrder, getDelivery, listDeliveries, redeliver, type CallbackAttemptRow, type CallbackDeliveryRow } from '../db/callback.repository.ts';
import type { Database } from '../db/schema.ts';
import { ErrorCode } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';
import type { CallbackPayload } from '../domain/callback.ts';
import type { z } from 'zod';
import type { CallbackDelivery } from './callback.schemas.ts';
import { visibleConnection } from './connection.service.ts';
import { ApiError } from './errors.ts';

async function sourceConnection(db: Kysely<Database>, connectionId: string, callerClientId: string) {
  const row = await visibleConnection(db, connectionId, callerClientId);
  if (row.source_client_id !== callerClientId) throw new ApiError(ErrorCode.FORBIDDEN_ACTOR, 'only the source sees and redelivers its callbacks');
  return row;
}

function toView(row: CallbackDeliveryRow, log: CallbackAttemptRow[]): z.infer<typeof CallbackDelivery> {
  const payload = JSON.parse(row.body) as CallbackPayload;
  return {
    id: row.id,
    callbackType: payload.callbackType,
    entityId: payload.entityId,
    orderId: payload.entity.orderId,
    sequence: row.sequence,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at.toISOString() : null,
    giveUpAt: row.give_up_at.toISOString(),
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at ? row.delivered_at.toISOString() : null,
    payload: payload as unknown as Record<string, unknown>,
    log: log.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), statusCode: a.status_code, latencyMs: a.latency_ms, error: a.error, outcome: a.outcome })),
  };
}

export async function deliveriesOf(db: Kysely<Database>, q: { connectionId: string; callerClientId: string; cursor?: string; limit: number }) {
  const row = await sourceConnection(db, q.connectionId, q.callerClientId);
  const page = await listDeliveries(db, { connectionId: row.id, cursor: q.cursor, limit: q.limit });
  return { items: page.items.map((d) => toView(d, d.attemptLog)), nextCursor: page.nextCursor };
}

export async function redeliverCallback(db: Kysely<Database>, q: { connectionId: string; callerClientId: string; deliveryId: string }) {
  const row = await sourceConnection(db, q.connectionId, q.callerClientId);
  const notFound = new ApiError(ErrorCode.NOT_FOUND, 'callback delivery not found');
  if (!isUuid(q.deliveryId) || !(await getDelivery(db, row.id, q.deliveryId))) throw notFound;
  const delivery = await redeliver(db, row.id, q.deliveryId);
  if (!delivery) throw notFound;
  return toView(delivery, await attemptsOf(db, delivery.id));
}

export async function claim(db: Kysely<Database>, input: { code: string; sourceClientId: string; customerId: string }) {
  const outcome = await claimOrder(db, input);
  if (outcome.ok) return { orderId: outcome.orderId, subscriptionId: outcome.subscriptionId };
  if (outcome.reason === 'not-found') throw new ApiError(ErrorCode.NOT_FOUND, 'claim code not found');
  throw new ApiError(ErrorCode.ORDER_CONFLICT, 'this order was claimed for another customer', { code: input.code });
}
