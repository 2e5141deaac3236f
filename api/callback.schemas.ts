/** Zod schemas of the callback routes (docs/callbacks.md): the source's callback, its delivery log, claims. */
import { z } from 'zod';
import { CALLBACK_TYPES } from '../domain/callback.ts';
import { PathId } from './schemas.ts';

export const CallbackBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048).describe('https; no credentials; never a loopback, private or link-local address'),
  // Signs callbacks (HMAC): short secrets would be guessable.
  secret: z.string().min(16).max(1024).describe('the HMAC key of X-CCX-Signature; never returned'),
});

export const DeliveryParams = z.object({ id: PathId, deliveryId: PathId });

export const DeliveriesQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const CallbackAttempt = z.object({
  attempt: z.number().int(),
  at: z.string(),
  statusCode: z.number().int().nullable().describe("the receiver's answer; null when there was none"),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
  outcome: z.enum(['delivered', 'retry', 'failed']),
});

export const CallbackDelivery = z.object({
  id: z.string().describe('the X-CCX-Delivery header: the same on every attempt'),
  callbackType: z.enum(CALLBACK_TYPES),
  entityId: z.string(),
  orderId: z.string(),
  sequence: z.number().int(),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable().describe('pending only'),
  giveUpAt: z.string().describe('a pending delivery not acknowledged by then is failed'),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()).describe('the body as sent (docs/callbacks.md)'),
  log: z.array(CallbackAttempt).describe('every recorded attempt, oldest first'),
});
export const CallbackDeliveryList = z.object({ items: z.array(CallbackDelivery), nextCursor: z.string().nullable() });

export const ClaimBody = z.strictObject({
  code: z.string().min(1).max(128).describe('the claimCode of a callback'),
  customerId: z.string().min(1).max(128).describe("the source's own customer id"),
});
export const ClaimAnswer = z.object({ orderId: z.string(), subscriptionId: z.string().nullable() });
