/** The cart's command declaration and its machine agree; its guarded commands are rule-set events. */
import { describe, expect, test } from 'vitest';
import { initialTransition } from 'xstate';
import { cartCommands } from '../../machines/cart.commands.ts';
import { cartMachine } from '../../machines/cart.machine.ts';
import { commandEvent, commandNames, flaggedCommands } from '../../machines/commands.ts';
import { GUARD_EVENTS } from '../../rules/facts.ts';

const SELLER = 'SELLER00000000000001';
const item = { offerId: 'o', title: 't', mandatory: true, defaultSelected: true, position: 0, external: false, sourceClientId: SELLER, priceMinor: 1, currency: 'EUR', available: true };
const draft = () => initialTransition(cartMachine, { cartId: 'c', clientId: SELLER, title: 't', items: [item] })[0];

describe('the cart command declaration', () => {
  test.each(commandNames(cartCommands))('%s is sent by the seller, and only by the seller', (name) => {
    expect(cartCommands[name].who).toBe('seller');
    const event = (actor: string) => {
      const made = commandEvent(cartCommands, name, { actor, items: [item] } as { actor: string });
      if (!made.ok) throw new Error(made.message);
      return made.event;
    };
    expect(draft().can(event(SELLER))).toBe(true);
    expect(draft().can(event('SOMEONEELSE000000000'))).toBe(false);
  });

  test('the guarded commands are exactly the cart events a rule set may guard', () => {
    expect(flaggedCommands(cartCommands, 'guarded').map((n) => `cart.${n}`).sort()).toEqual(GUARD_EVENTS.filter((e) => e.startsWith('cart.')).sort());
  });

  test('items from a caller going to Temporal directly are checked field by field', () => {
    const made = commandEvent(cartCommands, 'setItems', { actor: SELLER, items: [{ ...item, priceMinor: -1 }] } as { actor: string });
    expect(made.ok).toBe(false);
    expect(!made.ok && made.message).toContain('items.0.priceMinor');
  });
});
