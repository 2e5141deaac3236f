/**
 * The audit log (migration 009): appended to in the transaction of the change it records, read in
 * pages, never changed (the table refuses UPDATE and DELETE).
 */
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AuditActor, AuditChange, AuditEntry } from '../domain/audit.ts';
import { decodeIdCursor, encodeIdCursor } from './id-cursor.ts';
import type { Database } from './schema.ts';

/** Pass the transaction that makes the change: the entry commits with it or not at all. */
export async function appendAuditEntry(db: Kysely<Database>, actor: AuditActor, change: AuditChange): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: uuidv7(),
      actor: actor.principal,
      key_id: actor.keyId,
      action: change.action,
      subject: change.subject,
      details: JSON.stringify(change.details),
    })
    .execute();
}

export interface AuditFilters {
  /** A principal (`operator`, `client:<id>`, …) or a key id. */
  actor?: string | undefined;
  action?: string | undefined;
  /** at ≥ from, at < to (ISO 8601). */
  from?: string | undefined;
  to?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** Newest first. */
export async function listAuditEntries(db: Kysely<Database>, f: AuditFilters): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.actor !== undefined) {
    const actor = f.actor;
    q = q.where((eb) => eb.or([eb('actor', '=', actor), eb('key_id', '=', actor)]));
  }
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.from !== undefined) q = q.where('at', '>=', new Date(f.from));
  if (f.to !== undefined) q = q.where('at', '<', new Date(f.to));
  if (f.cursor !== undefined) q = q.where('id', '<', decodeIdCursor(f.cursor));
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return {
    items: page.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actor: r.actor,
      keyId: r.key_id,
      action: r.action as AuditEntry['action'],
      subject: r.subject,
      details: r.details as Record<string, unknown>,
    })),
    nextCursor: rows.length > f.limit ? encodeIdCursor(page[page.length - 1]!.id) : null,
  };
}
