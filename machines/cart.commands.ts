/**
 * The commands of a cart, one entry each (machines/commands.ts). Only the seller sends them; the
 * fan-out's availability arrives as a signal, not a command.
 */
import { z } from 'zod';
import { defineCommands } from './commands.ts';

const OfferId = z.string().min(1).max(64);

/** One item as the seller asks for it. */
export const CartItemRequest = z.strictObject({
  offerId: OfferId,
  mandatory: z.boolean(),
  defaultSelected: z.boolean().optional(),
  position: z.number().int().min(0).max(10_000).optional(),
});
export const CartItemsBody = z.strictObject({ items: z.array(CartItemRequest).max(100) });

/** One item as the cart holds it (resolved by the API against the offers). */
export const CartItemSchema = z.strictObject({
  offerId: OfferId,
  title: z.string(),
  mandatory: z.boolean(),
  defaultSelected: z.boolean(),
  position: z.number().int(),
  external: z.boolean(),
  sourceClientId: z.string().min(1),
  priceMinor: z.number().int().min(0),
  currency: z.string().length(3),
  available: z.boolean(),
});

export const cartCommands = defineCommands({
  setItems: {
    summary: 'Replace the items of a draft cart',
    who: 'seller',
    http: { method: 'PUT', path: '/items' },
    body: CartItemsBody,
    fields: z.strictObject({ items: z.array(CartItemSchema).max(100) }),
    guarded: true,
  },
  activate: { summary: 'Activate a draft cart: it can be sold', who: 'seller', http: { method: 'POST', path: '/activate' }, guarded: true },
  archive: { summary: 'Archive a cart (from any state but archived)', who: 'seller', http: { method: 'POST', path: '/archive' } },
});

export type CartCommands = typeof cartCommands;
export type CartCommandName = keyof CartCommands;
