/**
 * The facts a sale's payout rules and mails read, from the rows the API or the sale's activity read
 * for it: pure, so the API (before it starts the run) and the activity (for runs started without
 * them) build them the same way.
 */
import type { Language, PartyFacts } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import { costCenterFor, type OfferProduct, type SaleOfferRow } from '../domain/offer.ts';
import { clientFacts } from '../rules/connection-facts.ts';
import type { ClientFacts } from '../rules/facts.ts';
import type { LoadedPurchaseFacts } from './purchase.messages.ts';

export type FactsOutcome = { ok: true; facts: LoadedPurchaseFacts } | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> };

/** The facts of a sale from the rows read for it; a party or offer missing is the refusal the run records. */
export function purchaseFactsOf(
  parties: ReadonlyMap<string, PartyFacts>,
  rows: readonly SaleOfferRow[],
  input: { sellerClientId: string; sourceClientIds: string[]; offerIds: string[] },
): FactsOutcome {
  const party = (id: string): ClientFacts | undefined => {
    const p = parties.get(id);
    return p ? clientFacts(p) : undefined;
  };
  const seller = party(input.sellerClientId);
  if (!seller) return { ok: false, code: ErrorCode.NOT_FOUND, message: `client ${input.sellerClientId} not found` };
  const sources: Record<string, ClientFacts> = {};
  for (const id of input.sourceClientIds) {
    const source = party(id);
    if (!source) return { ok: false, code: ErrorCode.NOT_FOUND, message: `client ${id} not found` };
    sources[id] = source;
  }
  const wanted = new Set(input.offerIds);
  const offers: LoadedPurchaseFacts['offers'] = {};
  for (const r of rows) {
    if (!wanted.has(r.id)) continue;
    const product = (r.products as OfferProduct[])[0];
    offers[r.id] = {
      facts: { id: r.id, title: r.title, priceMinor: Number(r.price_minor), currency: r.currency.trim(), ownerClientId: r.owner_client_id },
      costCenter: product ? costCenterFor(product, input.sellerClientId) : '',
    };
  }
  const missing = input.offerIds.find((id) => !offers[id]);
  if (missing) return { ok: false, code: ErrorCode.ITEM_UNAVAILABLE, message: `offer ${missing} cannot be sold by this client`, details: { offerId: missing } };
  return { ok: true, facts: { seller, sources, offers } };
}

/**
 * The sale's parties as its facts know them, when they carry the mail addresses (the API's facts
 * do): the sale mails are then written without reading the parties again.
 */
export function partiesOf(facts: LoadedPurchaseFacts): Map<string, PartyFacts> | undefined {
  const emails = facts.emails;
  const all = [facts.seller, ...Object.values(facts.sources)];
  if (!emails || all.some((c) => emails[c.id] === undefined)) return undefined;
  return new Map(
    all.map((c) => [
      c.id,
      // ClientFacts keep the language as the rules see it: a string, read from a Language column.
      { clientId: c.id, name: c.name, email: emails[c.id]!, language: c.language as Language, contractingCompanyId: c.company.id, moduleActive: c.company.moduleActive },
    ]),
  );
}

