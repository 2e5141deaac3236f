/**
 * The cart lifecycle as a pure XState machine (docs/architecture.md "Offers and carts"):
 * draft (editable) → active (sellable) ⇄ suspended (a mandatory external item is unavailable) →
 * archived (final, from any other state). Availability arrives as `availabilityChanged` with the
 * items re-evaluated by the workflow; commands and their fields come from cart.commands.ts.
 */
import { assign, setup } from 'xstate';
import type { CartItem } from '../domain/cart.ts';
import type { ClientId } from '../domain/connection.ts';
import type { CommandEventOf } from './commands.ts';
import type { CartCommands } from './cart.commands.ts';

export interface CartContext {
  cartId: string;
  clientId: ClientId;
  title: string;
  items: CartItem[];
}

export type CartCommandEvent = CommandEventOf<CartCommands, ClientId>;
export type CartEvent = CartCommandEvent | { type: 'availabilityChanged'; items: CartItem[] };

/** Every mandatory item can be sold: a cart that is not is suspended (or cannot be activated). */
export const mandatoryAvailable = (items: readonly CartItem[]): boolean => items.every((i) => !i.mandatory || i.available);

const actorOf = (event: CartEvent): ClientId | undefined => ('actor' in event ? event.actor : undefined);
const itemsOf = (event: CartEvent, context: CartContext): CartItem[] => ('items' in event ? event.items : context.items);

export const cartMachine = setup({
  types: {
    context: {} as CartContext,
    events: {} as CartEvent,
    input: {} as CartContext,
  },
  actions: {
    applyItems: assign({ items: ({ context, event }) => itemsOf(event, context) }),
  },
  guards: {
    isSeller: ({ context, event }) => actorOf(event) === context.clientId,
    isSellerWithMandatoryItems: ({ context, event }) => actorOf(event) === context.clientId && mandatoryAvailable(context.items),
    losesMandatoryItem: ({ context, event }) => !mandatoryAvailable(itemsOf(event, context)),
    regainsMandatoryItems: ({ context, event }) => mandatoryAvailable(itemsOf(event, context)),
  },
}).createMachine({
  id: 'cart',
  context: ({ input }) => input,
  initial: 'draft',
  states: {
    draft: {
      on: {
        setItems: { guard: 'isSeller', actions: 'applyItems' },
        activate: { guard: 'isSellerWithMandatoryItems', target: 'active' },
        archive: { guard: 'isSeller', target: 'archived' },
        availabilityChanged: { actions: 'applyItems' },
      },
    },
    active: {
      on: {
        archive: { guard: 'isSeller', target: 'archived' },
        availabilityChanged: [{ guard: 'losesMandatoryItem', target: 'suspended', actions: 'applyItems' }, { actions: 'applyItems' }],
      },
    },
    suspended: {
      on: {
        archive: { guard: 'isSeller', target: 'archived' },
        availabilityChanged: [{ guard: 'regainsMandatoryItems', target: 'active', actions: 'applyItems' }, { actions: 'applyItems' }],
      },
    },
    archived: { type: 'final' },
  },
});
