/**
 * An opaque cursor over a UUIDv7 id (offers, carts): ids are minted in creation order, so
 * keyset paging by id is paging by creation.
 */
import { isUuid } from '../domain/ids.ts';
import { InvalidCursorError } from './connection.repository.ts';

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
