/**
 * Rule facts of a cart (`cart.setItems`, `cart.activate`), built the same way by the API's
 * pre-check and the cart workflow so both reach the same verdict. Pure.
 */
import type { CartItem } from '../domain/cart.ts';
import type { CartFacts } from './facts.ts';

export function cartFacts(cart: { id: string; title: string; status: string }, items: readonly CartItem[]): CartFacts {
  return {
    id: cart.id,
    title: cart.title,
    status: cart.status,
    currency: items[0]?.currency ?? '',
    items: items.map((i) => ({
      offerId: i.offerId, title: i.title, external: i.external, sourceClientId: i.sourceClientId, mandatory: i.mandatory,
      priceMinor: i.priceMinor, currency: i.currency,
    })),
  };
}
