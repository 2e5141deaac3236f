/**
 * The fixed rules of a cart's items (docs/architecture.md "Offers and carts"), checked by the API
 * before anything starts and again by the cart workflow: at least one item, at least one
 * mandatory, an external offer only beside an own offer, one currency, each offer once. Which
 * offers the seller may use at all (own, or shared and available) needs the read model: the API
 * resolves that. Policy beyond these is the rule set's (`cart.setItems`, `cart.activate`).
 */
import type { CartItem } from '../domain/cart.ts';
import { ErrorCode, type Refusal } from '../domain/errors.ts';

const rejected = (rule: string, message: string): Refusal => ({ code: ErrorCode.RULE_REJECTED, message, details: { rule } });

export function checkCartItems(items: readonly CartItem[]): Refusal | null {
  if (items.length === 0) return rejected('cart-needs-item', 'a cart needs at least one item');
  if (!items.some((i) => i.mandatory)) return rejected('cart-needs-mandatory-item', 'a cart needs at least one mandatory item');
  const ids = items.map((i) => i.offerId);
  const twice = ids.find((id, n) => ids.indexOf(id) !== n);
  if (twice) return { code: ErrorCode.RULE_REJECTED, message: `offer ${twice} is in the cart twice`, details: { rule: 'offer-once', offerId: twice } };
  if (items.some((i) => i.external) && !items.some((i) => !i.external)) {
    return rejected('external-needs-own-offer', 'a cart with an external offer must also hold an own offer');
  }
  const currencies = [...new Set(items.map((i) => i.currency))];
  if (currencies.length > 1) {
    return { code: ErrorCode.CURRENCY_MISMATCH, message: `all offers of a cart share one currency, not ${currencies.join(', ')}`, details: { currencies } };
  }
  return null;
}

/** The cart's currency: the one of its items. */
export const cartCurrency = (items: readonly CartItem[]): string | null => items[0]?.currency ?? null;
