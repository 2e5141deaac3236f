/**
 * The facts a rule may read, per event: declared once here as CEL types, used by the loader to
 * type-check every expression and by the evaluator to bring facts into CEL's value space.
 * Only facts a workflow already holds (docs/architecture.md "Workflows"), so guards stay pure and can run in
 * synchronous update validators. Pure: no Node built-ins (bundled into the workflow sandbox).
 */

import { flaggedCommands, type FlaggedCommands } from '../machines/commands.ts';
import { connectionCommands, type ConnectionCommands } from '../machines/connection.commands.ts';

/** CEL field types of every fact object. `int` fields are JS numbers outside and BigInt inside CEL. */
export const FACT_TYPES = {
  Company: { id: 'string', moduleActive: 'bool' },
  Client: { id: 'string', name: 'string', language: 'string', company: 'Company' },
  Connection: { id: 'string', status: 'string', offerAccess: 'bool', hasCallback: 'bool', blockedBy: 'string' },
  Actor: { id: 'string', role: 'string' },
  CartItem: {
    offerId: 'string', title: 'string', external: 'bool', sourceClientId: 'string', mandatory: 'bool',
    priceMinor: 'int', currency: 'string',
  },
  Cart: { id: 'string', title: 'string', status: 'string', currency: 'string', items: 'list<CartItem>' },
  PurchaseItem: { offerId: 'string', amountMinor: 'int', external: 'bool', sourceClientId: 'string' },
  Purchase: {
    orderId: 'string', customerId: 'string', paymentMethod: 'string', currency: 'string', totalMinor: 'int',
    items: 'list<PurchaseItem>',
  },
  Offer: { id: 'string', title: 'string', priceMinor: 'int', currency: 'string', ownerClientId: 'string' },
} as const satisfies Record<string, Record<string, string>>;
export type FactTypeName = keyof typeof FACT_TYPES;

const connectionCommand = { source: 'Client', target: 'Client', connection: 'Connection', actor: 'Actor' } as const;

/** The connection commands declared `guarded` (machines/connection.commands.ts), as rule-set events. */
export type ConnectionCommandGuardEvent = `connection.${FlaggedCommands<ConnectionCommands, 'guarded'>}`;
const connectionCommandGuards = Object.fromEntries(
  flaggedCommands(connectionCommands, 'guarded').map((name) => [`connection.${name}`, connectionCommand]),
) as Record<ConnectionCommandGuardEvent, typeof connectionCommand>;

/** The variables of each guarded event (the keys of the YAML `guards` section). */
export const GUARD_EVENT_FACTS = {
  'connection.invite': { source: 'Client', target: 'Client', connection: 'Connection' },
  ...connectionCommandGuards,
  'cart.activate': { seller: 'Client', cart: 'Cart' },
  'cart.setItems': { seller: 'Client', cart: 'Cart' },
  'purchase.record': { seller: 'Client', cart: 'Cart', purchase: 'Purchase' },
} as const satisfies Record<string, Record<string, FactTypeName>>;
export type GuardEvent = keyof typeof GUARD_EVENT_FACTS;
export const GUARD_EVENTS = Object.keys(GUARD_EVENT_FACTS) as GuardEvent[];

/** The variables of a payout rule: one cross-client item of a recorded purchase. */
export const PAYOUT_FACTS = {
  seller: 'Client', source: 'Client', connection: 'Connection', offer: 'Offer', item: 'PurchaseItem', purchase: 'Purchase',
} as const satisfies Record<string, FactTypeName>;

export type FactScope = GuardEvent | 'payout';
export const variablesOf = (scope: FactScope): Readonly<Record<string, FactTypeName>> =>
  scope === 'payout' ? PAYOUT_FACTS : GUARD_EVENT_FACTS[scope];

// --- The same facts as TypeScript types: what the workflow or the API builds. ---
export interface CompanyFacts { id: string; moduleActive: boolean }
export interface ClientFacts { id: string; name: string; language: string; company: CompanyFacts }
/** `status` is `new` during `connection.invite`; `blockedBy` is '' unless blocked (CEL has no undefined). */
export interface ConnectionRuleFacts { id: string; status: string; offerAccess: boolean; hasCallback: boolean; blockedBy: string }
export interface ActorFacts { id: string; role: 'source' | 'target' }
export interface CartItemFacts {
  offerId: string; title: string; external: boolean; sourceClientId: string; mandatory: boolean;
  priceMinor: number; currency: string;
}
export interface CartFacts { id: string; title: string; status: string; currency: string; items: CartItemFacts[] }
export interface PurchaseItemFacts { offerId: string; amountMinor: number; external: boolean; sourceClientId: string }
export interface PurchaseFacts {
  orderId: string; customerId: string; paymentMethod: string; currency: string; totalMinor: number;
  items: PurchaseItemFacts[];
}
export interface OfferFacts { id: string; title: string; priceMinor: number; currency: string; ownerClientId: string }

export interface ConnectionCommandFacts { source: ClientFacts; target: ClientFacts; connection: ConnectionRuleFacts; actor: ActorFacts }
export type GuardFacts = Record<ConnectionCommandGuardEvent, ConnectionCommandFacts> & {
  'connection.invite': { source: ClientFacts; target: ClientFacts; connection: ConnectionRuleFacts };
  'cart.activate': { seller: ClientFacts; cart: CartFacts };
  'cart.setItems': { seller: ClientFacts; cart: CartFacts };
  'purchase.record': { seller: ClientFacts; cart: CartFacts; purchase: PurchaseFacts };
};
export interface PayoutFacts {
  seller: ClientFacts; source: ClientFacts; connection: ConnectionRuleFacts; offer: OfferFacts;
  item: PurchaseItemFacts; purchase: PurchaseFacts;
}

// --- Boundary conversion: CEL integers are BigInt; money and counts arrive as JS numbers. ---
type Convert = (value: any) => any;
const identity: Convert = (v) => v;

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new RangeError(`expected an integer, got ${String(v)}`);
}

const converterCache = new Map<string, Convert>();

/** A converter for one CEL type; `identity` when nothing inside needs converting (the common case). */
function converterFor(type: string): Convert {
  const cached = converterCache.get(type);
  if (cached) return cached;
  let result = identity;
  if (type === 'int') result = toBigInt;
  else if (type.startsWith('list<')) {
    const inner = converterFor(type.slice(5, -1));
    if (inner !== identity) result = (v) => (Array.isArray(v) ? v.map(inner) : v);
  } else if (type in FACT_TYPES) {
    const fields = Object.entries(FACT_TYPES[type as FactTypeName])
      .map(([name, t]) => [name, converterFor(t)] as const)
      .filter(([, c]) => c !== identity);
    if (fields.length > 0) {
      result = (v) => {
        if (v === null || typeof v !== 'object') return v;
        const copy = { ...v };
        for (const [name, convert] of fields) if (name in copy) copy[name] = convert(copy[name]);
        return copy;
      };
    }
  }
  converterCache.set(type, result);
  return result;
}

/**
 * Converts the facts of one scope into CEL values, touching only the variables that hold an
 * integer somewhere; returns the very same object when none does (invitation facts).
 */
export function factsConverter(scope: FactScope): (facts: object) => Record<string, unknown> {
  const vars = Object.entries(variablesOf(scope))
    .map(([name, type]) => [name, converterFor(type)] as const)
    .filter(([, c]) => c !== identity);
  if (vars.length === 0) return (facts) => facts as Record<string, unknown>;
  return (facts) => {
    const out: Record<string, unknown> = { ...facts };
    for (const [name, convert] of vars) if (name in out) out[name] = convert(out[name]);
    return out;
  };
}
