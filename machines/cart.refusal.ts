/**
 * Why the cart machine refuses a command, as a stable error code — derived from the machine
 * (`snapshot.can`), like connection.refusal.ts: a stranger gets 404, a draft whose mandatory items
 * cannot be sold 422 ITEM_UNAVAILABLE, anything else not allowed now 409.
 */
import type { SnapshotFrom } from 'xstate';
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import { cartMachine, type CartCommandEvent } from './cart.machine.ts';

export type CartSnapshot = SnapshotFrom<typeof cartMachine>;

export function explainCartRefusal(snapshot: CartSnapshot, event: CartCommandEvent): Refusal | null {
  if (event.actor !== snapshot.context.clientId) return { code: ErrorCode.NOT_FOUND, message: 'cart not found' };
  if (snapshot.can(event)) return null;
  const allAvailable = cartMachine.resolveState({
    value: snapshot.value,
    context: { ...snapshot.context, items: snapshot.context.items.map((i) => ({ ...i, available: true })) },
  });
  if (allAvailable.can(event)) {
    const missing = snapshot.context.items.filter((i) => i.mandatory && !i.available).map((i) => i.offerId);
    return { code: ErrorCode.ITEM_UNAVAILABLE, message: 'a mandatory item cannot be sold right now', details: { offerIds: missing } };
  }
  return { code: ErrorCode.INVALID_TRANSITION, message: `cannot ${event.type} a cart that is ${String(snapshot.value)}` };
}
