/**
 * Zod schemas of the offer routes (api/routes/offers.ts). Bodies are strict; money is integer
 * minor units with an ISO 4217 currency. The rules that span fields (sharing, per-target cost
 * centres) live in `checkOfferRules`, so a PATCH re-validates the merged offer with the same rules
 * as a create (`OfferState`).
 */
import { z } from 'zod';
import type { ApiError } from './errors.ts';
import { fieldRuleRejected, TrimmedText } from './schemas.ts';

export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code: 3 upper-case letters');
const Title = TrimmedText(200);
const PriceMinor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
// Any string: an id that does not exist is a clear 404 TARGET_NOT_FOUND, not a schema error.
const ClientRef = z.string().min(1).max(64);
const CostCenter = TrimmedText(64);
const ConnectedClientIds = z
  .array(ClientRef)
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a client')
  .meta({ uniqueItems: true });
// A JSON key __proto__ is refused by the body parser (prototype poisoning): say so in the document.
const CostCenterTarget = ClientRef.regex(/^(?!__proto__$)/, 'must not be __proto__');
const Product = z.strictObject({
  name: TrimmedText(200),
  costCenter: CostCenter,
  costCenters: z.record(CostCenterTarget, CostCenter).optional(),
});
const Products = z.array(Product).min(1).max(50);
const SelfServiceHint = z.string().max(1000);

const fields = {
  title: Title,
  priceMinor: PriceMinor,
  currency: Currency,
  crossClient: z.boolean(),
  connectedClientIds: ConnectedClientIds.optional(),
  products: Products,
  selfServiceHint: SelfServiceHint.optional(),
};

interface SharingFields {
  crossClient: boolean;
  connectedClientIds?: string[] | undefined;
  products: Array<{ costCenters?: Record<string, string> | undefined }>;
}

/**
 * Rules across the fields of a whole offer (created, or merged by a PATCH), which the document's
 * schema cannot state: 422 RULE_REJECTED naming the rule and the field
 * (`connectedClientIds`, `products.0.costCenters.X`).
 */
export function checkOfferRules(offer: SharingFields): ApiError | undefined {
  const targets = offer.connectedClientIds ?? [];
  if (offer.crossClient && targets.length === 0) {
    return fieldRuleRejected('cross-client-needs-target', 'connectedClientIds', 'a cross-client offer needs at least one connected client');
  }
  if (!offer.crossClient && targets.length > 0) {
    return fieldRuleRejected('targets-need-cross-client', 'connectedClientIds', 'only a cross-client offer names connected clients');
  }
  for (const [i, product] of offer.products.entries()) {
    const stranger = Object.keys(product.costCenters ?? {}).find((clientId) => !targets.includes(clientId));
    if (stranger !== undefined) {
      return fieldRuleRejected('cost-centre-needs-target', `products.${i}.costCenters.${stranger}`, `${stranger} is not one of connectedClientIds`);
    }
  }
  return undefined;
}

export const CreateOfferBody = z.strictObject(fields).describe(
  'A cross-client offer names at least one connected client, a local one none; per-target cost centres only for connected clients (else 422 RULE_REJECTED).',
);

/** Any field of the create body but `currency` (an offer's currency never changes); null clears the hint. */
export const PatchOfferBody = z.strictObject({
  title: Title.optional(),
  priceMinor: PriceMinor.optional(),
  crossClient: z.boolean().optional(),
  connectedClientIds: ConnectedClientIds.optional(),
  products: Products.optional(),
  selfServiceHint: SelfServiceHint.nullable().optional(),
});

/** The whole offer after a PATCH is merged: checked again with the create rules (and `checkOfferRules`). */
export const OfferState = z.strictObject({ ...fields, connectedClientIds: ConnectedClientIds, selfServiceHint: SelfServiceHint.nullable() });

export type CreateOfferInput = z.infer<typeof CreateOfferBody>;
export type PatchOfferInput = z.infer<typeof PatchOfferBody>;
export type OfferStateInput = z.infer<typeof OfferState>;

const ProductView = z.object({
  name: z.string(),
  costCenter: z.string(),
  costCenters: z.record(z.string(), z.string()).optional(),
});

export const Offer = z.object({
  id: z.string(),
  ownerClientId: z.string(),
  title: z.string(),
  priceMinor: z.number().int(),
  currency: z.string(),
  crossClient: z.boolean(),
  connectedClientIds: z.array(z.string()),
  products: z.array(ProductView),
  selfServiceHint: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A cross-client offer as a target sees it: its own cost centres, no list of other targets. */
export const ExternalOffer = z.object({
  id: z.string(),
  ownerClientId: z.string(),
  title: z.string(),
  priceMinor: z.number().int(),
  currency: z.string(),
  products: z.array(z.object({ name: z.string(), costCenter: z.string() })),
  selfServiceHint: z.string().nullable(),
  version: z.number().int(),
  updatedAt: z.string(),
});

export const OfferList = z.object({ items: z.array(Offer), nextCursor: z.string().nullable() });
export const ExternalOfferList = z.object({ items: z.array(ExternalOffer), nextCursor: z.string().nullable() });
export const ListOffersQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
