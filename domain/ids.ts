/** Ids the product mints (connections, offers, carts, orders, payout rows): UUIDs, v7 by default. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be one of ours: anything else is answered 404 (or skipped) without a query. */
export const isUuid = (id: string): boolean => UUID.test(id);
