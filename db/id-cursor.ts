/**
 * Opaque list cursors. An id cursor over a UUIDv7 id (offers, carts): ids are minted in creation order, so
 * keyset paging by id is paging by creation.
 */
import { isUuid } from '../domain/ids.ts';

/** A malformed cursor: the caller's mistake (400), not ours. */
export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

export const encodeIdCursor = (id: string): string => Buffer.from(JSON.stringify([id])).toString('base64url');

export function decodeIdCursor(cursor: string): string {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string' && isUuid(value[0])) return value[0];
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/**
 * An opaque cursor over (created_at, id) for keyset paging newest first. It keeps created_at as
 * Postgres text with microseconds: a JS Date would round to milliseconds and make paging skip or
 * repeat rows written within the same millisecond.
 */
export const encodeTimeCursor = (createdAt: string, id: string): string => Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');

export function decodeTimeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string') && !Number.isNaN(Date.parse(value[0] as string))) {
      return value as [string, string];
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}
