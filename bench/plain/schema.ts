/**
 * The baseline's own tables, in schema `plain` of the bench database: clients and API keys (what
 * its HTTP hop looks up per request), connections, the mail outbox, and for purchases offers, carts,
 * orders and payout rows mirroring the product's columns and indexes (db/migrations/…005), and
 * for `--callbacks` each connection's callback and the callback outbox (empty tables otherwise).
 */
import type pg from 'pg';

export const PLAIN_SCHEMA = `
create schema if not exists plain;
create table plain.clients (
  client_id text primary key, name text not null, email text not null, language text not null, module_active boolean not null);
create table plain.api_keys (key_hash text primary key, client_id text not null references plain.clients);
create table plain.connections (
  id uuid primary key, workflow_id text not null, source_client_id text not null, target_client_id text not null,
  status text not null, offer_access boolean not null, blocked_by text, version integer not null,
  created_at timestamptz not null default now(), updated_at timestamptz not null default now());
create table plain.outbox (
  message_id text primary key, recipient text not null, subject text not null, body text not null,
  created_at timestamptz not null default now(), sent_at timestamptz);
create index plain_outbox_pending_idx on plain.outbox (created_at) where sent_at is null;
create table plain.offers (
  id uuid primary key, owner_client_id text not null, title text not null, price_minor bigint not null,
  currency char(3) not null, cost_center text not null);
create table plain.carts (
  id uuid primary key, seller_client_id text not null, status text not null, currency char(3) not null, items jsonb not null);
create table plain.orders (
  id uuid primary key, seller_client_id text not null, order_id varchar(64) not null, cart_id uuid not null,
  customer_id text not null, payment_method text not null, currency char(3) not null, items jsonb not null,
  created_at timestamptz not null default now(), unique (seller_client_id, order_id));
create table plain.payout_rows (
  id uuid primary key, type text not null, paid_status text not null default 'OPEN',
  source_client_id text not null, connected_client_id text not null, connection_id uuid not null,
  order_ref uuid not null references plain.orders, order_id varchar(64) not null, movement_id varchar(64) not null,
  offer_id uuid not null, cost_center text not null, payment_method text not null, amount_minor bigint not null,
  currency char(3) not null, share_basis_points integer not null, share_minor bigint not null, rule_set_version text not null,
  created_at timestamptz not null default now(), changed_at timestamptz not null default now(),
  unique (connected_client_id, order_id, offer_id, type, movement_id));
create index on plain.payout_rows (source_client_id, created_at desc, id desc);
create index on plain.payout_rows (source_client_id, paid_status, created_at desc, id desc);
create index on plain.payout_rows (connected_client_id, created_at desc, id desc);
create index on plain.payout_rows (connected_client_id, paid_status, created_at desc, id desc);
create index on plain.payout_rows (source_client_id, connected_client_id, currency, type, paid_status, created_at);
create table plain.connection_callbacks (connection_id uuid primary key, url text not null, secret text not null);
create table plain.callbacks (
  id uuid primary key, connection_id uuid not null, url text not null, secret text not null, body text not null,
  attempts integer not null default 0, due_at timestamptz not null default now(), delivered_at timestamptz,
  created_at timestamptz not null default now());
create index plain_callbacks_due_idx on plain.callbacks (due_at) where delivered_at is null;
`;

export async function createPlainSchema(pool: pg.Pool | pg.Client): Promise<void> {
  await pool.query(PLAIN_SCHEMA);
}
