/** Zod schemas of the cart routes (request validation and the OpenAPI document). */
import { z } from 'zod';
import { TrimmedText } from './schemas.ts';
import { CART_STATUSES } from '../domain/cart.ts';
import { CartItemRequest, CartItemSchema } from '../machines/cart.commands.ts';

export const CartStatus = z.enum(CART_STATUSES);

export const Cart = z.object({
  id: z.string(),
  clientId: z.string(),
  workflowId: z.string(),
  title: z.string(),
  status: CartStatus,
  currency: z.string().nullable(),
  items: z.array(CartItemSchema.describe('an item with `available`: whether it can be sold right now')),
  version: z.number().int(),
  ruleSetVersion: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const CartList = z.object({ items: z.array(Cart), nextCursor: z.string().nullable() });

export const CreateCartBody = z.strictObject({
  title: TrimmedText(200),
  items: z.array(CartItemRequest).max(100),
});
export const ListCartsQuery = z.strictObject({
  status: CartStatus.optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
