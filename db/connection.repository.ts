/**
 * The connections read model. Workflows are the authority for a connection's lifecycle; these
 * rows are their published view, written by activities and read by the API. The caller owns the
 * transaction (pass a Transaction for `db` to combine calls).
 */
import { sql, type Kysely } from 'kysely';
import { FINAL_STATUSES, type ConnectionStatus, type ConnectionView, type HistoryEntry } from '../domain/connection.ts';
import { decodeTimeCursor, encodeTimeCursor } from './id-cursor.ts';
import type { ConnectionHistoryRow, ConnectionRow, Database } from './schema.ts';

const finalStatuses = [...FINAL_STATUSES];

/**
 * Writes the view unless a newer (or the same) version is already stored: activity retries and
 * out-of-order deliveries can never move the read model backwards. Returns whether it wrote.
 */
export async function upsertConnection(db: Kysely<Database>, view: ConnectionView): Promise<boolean> {
  const written = await db
    .insertInto('connections')
    .values({
      id: view.id,
      workflow_id: view.workflowId,
      source_client_id: view.sourceClientId,
      target_client_id: view.targetClientId,
      status: view.status,
      offer_access: view.offerAccess,
      blocked_by: view.blockedBy,
      expires_at: view.expiresAt,
      created_at: view.createdAt,
      updated_at: view.updatedAt,
      version: view.version,
      rule_set_version: view.ruleSetVersion,
      callback_url: view.callback?.url ?? null,
      rejection_code: view.rejection?.code ?? null,
      rejection_message: view.rejection?.message ?? null,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        // Identity columns (workflow, parties, created_at) never change. The callback URL is the
        // source's to change (PUT …/callback); the workflow only knows the one of the invitation.
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          offer_access: eb.ref('excluded.offer_access'),
          blocked_by: eb.ref('excluded.blocked_by'),
          expires_at: eb.ref('excluded.expires_at'),
          updated_at: eb.ref('excluded.updated_at'),
          version: eb.ref('excluded.version'),
          rule_set_version: eb.ref('excluded.rule_set_version'),
          rejection_code: eb.ref('excluded.rejection_code'),
          rejection_message: eb.ref('excluded.rejection_message'),
        }))
        .where('connections.version', '<', (eb) => eb.ref('excluded.version')),
    )
    .returning('id')
    .executeTakeFirst();
  return written !== undefined;
}

/** A history line keyed by the transition (connection id, version) that wrote it. */
export type StoredHistoryEntry = HistoryEntry & { connectionId: string; version: number };

/** Idempotent: a retried transition finds its entry already there. */
export async function insertHistory(db: Kysely<Database>, entry: StoredHistoryEntry): Promise<void> {
  await db
    .insertInto('connection_history')
    .values({
      connection_id: entry.connectionId,
      version: entry.version,
      event: entry.event,
      actor: entry.actor,
      from_status: entry.from,
      to_status: entry.to,
      at: entry.at,
    })
    .onConflict((oc) => oc.columns(['connection_id', 'version']).doNothing())
    .execute();
}

export async function getConnection(db: Kysely<Database>, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getConnectionHistory(db: Kysely<Database>, id: string): Promise<ConnectionHistoryRow[]> {
  return db.selectFrom('connection_history').selectAll().where('connection_id', '=', id).orderBy('version').execute();
}

/** The (at most one) non-final connection of the pair, as far as the read model knows. */
export async function findOpenConnection(
  db: Kysely<Database>,
  sourceClientId: string,
  targetClientId: string,
): Promise<ConnectionRow | undefined> {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('source_client_id', '=', sourceClientId)
    .where('target_client_id', '=', targetClientId)
    .where('status', 'not in', finalStatuses)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** Non-final connections touching a contracting company: the ones to signal when its modules change. */
export async function listOpenConnectionsOfCompany(
  db: Kysely<Database>,
  contractingCompanyId: string,
): Promise<{ connectionId: string; workflowId: string }[]> {
  return (
    db
      .selectFrom('connections as c')
      .innerJoin('clients as s', 's.id', 'c.source_client_id')
      // Left join: a rejected invitation may name a target that does not exist.
      .leftJoin('clients as t', 't.id', 'c.target_client_id')
      .select(['c.id as connectionId', 'c.workflow_id as workflowId'])
      .where('c.status', 'not in', finalStatuses)
      .where((eb) =>
        eb.or([eb('s.contracting_company_id', '=', contractingCompanyId), eb('t.contracting_company_id', '=', contractingCompanyId)]),
      )
      .orderBy('c.id')
      .execute()
  );
}

export interface ListConnectionsQuery {
  clientId: string;
  role?: 'source' | 'target';
  status?: string;
  cursor?: string;
  limit: number;
}



/** The client's connections, newest first, keyset-paged over (created_at, id). */
export async function listConnections(
  db: Kysely<Database>,
  query: ListConnectionsQuery,
): Promise<{ items: ConnectionRow[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeTimeCursor(query.cursor);
  let q = db
    .selectFrom('connections')
    .selectAll()
    .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_created_at'))
    .where((eb) => {
      if (query.role === 'source') return eb('source_client_id', '=', query.clientId);
      if (query.role === 'target') return eb('target_client_id', '=', query.clientId);
      return eb.or([eb('source_client_id', '=', query.clientId), eb('target_client_id', '=', query.clientId)]);
    });
  if (query.status !== undefined) q = q.where('status', '=', query.status);
  if (after) {
    const [createdAt, id] = after;
    q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(sql<Date>`${createdAt}::timestamptz`, id)));
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > query.limit && last ? encodeTimeCursor(last.cursor_created_at, last.id) : null;
  return { items: page.map(({ cursor_created_at: _, ...row }) => row), nextCursor };
}

export function toConnectionView(row: ConnectionRow): ConnectionView {
  const view: ConnectionView = {
    id: row.id,
    workflowId: row.workflow_id,
    sourceClientId: row.source_client_id,
    targetClientId: row.target_client_id,
    status: row.status as ConnectionStatus,
    offerAccess: row.offer_access,
    blockedBy: row.blocked_by,
    expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    ruleSetVersion: row.rule_set_version,
  };
  if (row.callback_url) view.callback = { url: row.callback_url };
  if (row.rejection_code) view.rejection = { code: row.rejection_code, message: row.rejection_message ?? '' };
  return view;
}
