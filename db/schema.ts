/**
 * Kysely table types (snake_case columns). Postgres is the authority for companies, clients, keys
 * and idempotency records; for connections it holds the read model the workflows write.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface ContractingCompanyTable {
  id: string;
  name: string;
  created_at: CreatedAt;
}

export interface ContractModuleTable {
  contracting_company_id: string;
  module: string;
  active: boolean;
  changed_at: Timestamp;
  /** Incremented by every switch: orders the signals connections receive. */
  revision: Generated<number>;
  /** The newest revision whose fan-out was started (the outbox of module switches). */
  told_revision: Generated<number>;
}

export interface ClientTable {
  id: string;
  contracting_company_id: string;
  name: string;
  email: string;
  language: 'de' | 'en';
  created_at: CreatedAt;
}

export interface ApiKeyTable {
  id: string;
  /** First characters of the key, indexed: the lookup before the constant-time hash compare. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  /** `operator` or `client:<clientId>`. */
  principal: string;
  client_id: string | null;
  created_at: CreatedAt;
  revoked_at: Timestamp | null;
}

export interface ConnectionTable {
  id: string;
  workflow_id: string;
  source_client_id: string;
  target_client_id: string;
  status: string;
  offer_access: boolean;
  blocked_by: string | null;
  expires_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: number;
  rule_set_version: string | null;
  /** As registered at the invitation or changed since (`connection_callbacks` holds the secret). */
  callback_url: string | null;
  rejection_code: string | null;
  rejection_message: string | null;
}

export interface ConnectionHistoryTable {
  connection_id: string;
  version: number;
  event: string;
  actor: string | null;
  from_status: string | null;
  to_status: string;
  at: Timestamp;
}

export type MailState = 'pending' | 'sent' | 'skipped';
/** Why the last attempt failed: our side (`configuration`), or the relay or network for now (`transient`). */
export type MailErrorKind = 'configuration' | 'transient';

/** Every system mail, rendered, from the transaction that owed it until it is sent or skipped. */
export interface MailTable {
  message_id: string;
  queue: string;
  connection_id: string | null;
  template: string;
  recipient: string;
  language: 'de' | 'en';
  subject: string;
  body: string;
  state: MailState;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The claim of the dispatcher delivering it now; renewed while the SMTP conversation lasts. */
  lease_token: string | null;
  lease_until: Timestamp | null;
  last_error: string | null;
  last_error_kind: MailErrorKind | null;
  skipped_reason: string | null;
  created_at: CreatedAt;
  sent_at: Timestamp | null;
  /** Attempts the relay accepted: > 1 only when a crash fell between its acceptance and our record. */
  send_count: Generated<number>;
}

export interface IdempotencyKeyTable {
  principal: string;
  key: string;
  request_hash: string;
  /** `in_progress` while the first request runs, `done` once its answer is recorded. */
  state: 'in_progress' | 'done';
  status_code: number | null;
  response_body: unknown;
  /** Ids minted by the first attempt (e.g. the connection id) so a retry converges on them. */
  minted_id: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface RuleSetTable {
  /** Content hash of the source: the version workflows pin. */
  version: string;
  name: string | null;
  source: string;
  /** The CompiledRuleSet (JSON) handed to workflows. */
  compiled: unknown;
  created_at: CreatedAt;
  activated_at: Timestamp | null;
  active: Generated<boolean>;
}

export interface OfferTable {
  id: string;
  owner_client_id: string;
  title: string;
  /** int8: pg returns it as a string; repositories convert to number (amounts stay < 2^53). */
  price_minor: ColumnType<string, number | string, number | string>;
  currency: string;
  cross_client: boolean;
  /** OfferProduct[] (domain/offer.ts). */
  products: ColumnType<unknown, string, string>;
  self_service_hint: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OfferTargetTable {
  offer_id: string;
  target_client_id: string;
}

/** A view: the (source, target) pairs whose shared offers reach the target right now. */
export interface AvailablePairView {
  source_client_id: string;
  target_client_id: string;
}

export interface PairAvailabilityTable {
  source_client_id: string;
  target_client_id: string;
  /** Bumped by every change that may alter what the target's carts can sell of the source. */
  version: ColumnType<string, number | string | undefined, number | string>;
  /** The highest version a fan-out has told every cart of the pair (outbox: version > told_version). */
  told_version: ColumnType<string, number | string | undefined, number | string>;
  changed_at: Timestamp;
}

export interface CartTable {
  id: string;
  client_id: string;
  workflow_id: string;
  title: string;
  status: string;
  currency: string | null;
  /** CartItem[] (domain/cart.ts), with availability. */
  items: ColumnType<unknown, string, string>;
  version: number;
  rule_set_version: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Which carts hold offers of which source: the fan-out's index. */
export interface CartSourceTable {
  cart_id: string;
  seller_client_id: string;
  source_client_id: string;
  workflow_id: string;
}

export interface OrderTable {
  id: string;
  seller_client_id: string;
  order_id: string;
  cart_id: string;
  customer_id: string;
  payment_method: string;
  currency: string;
  subscription_id: string | null;
  invoice_id: string | null;
  /** OrderItem[] (domain/payout.ts). */
  items: ColumnType<unknown, string, string>;
  /** sha256 of the purchase request: the same order id with another body is a conflict. */
  request_hash: string;
  created_at: CreatedAt;
}

/** int8 columns: pg returns strings; repositories convert to number (amounts stay < 2^53). */
type Int8 = ColumnType<string, number | string, number | string>;

export interface PayoutRowTable {
  id: string;
  type: 'PAYMENT' | 'REFUND' | 'LOSS';
  paid_status: ColumnType<'OPEN' | 'PAID', 'OPEN' | 'PAID' | undefined, 'OPEN' | 'PAID'>;
  source_client_id: string;
  connected_client_id: string;
  connection_id: string;
  order_ref: string;
  order_id: string;
  /** The money movement: the order id for its first payment, else the payment, refund or chargeback id. */
  movement_id: string;
  /** REFUND/LOSS: the PAYMENT row whose basis points they reuse. */
  reverses_row_id: string | null;
  subscription_id: string | null;
  invoice_id: string | null;
  offer_id: string;
  cost_center: string;
  payment_method: string;
  amount_minor: Int8;
  currency: string;
  share_basis_points: number;
  share_minor: Int8;
  rule_set_version: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  changed_by: string | null;
}

/** A refund, chargeback or recurring payment of an order: its key and the hash of its request. */
export interface OrderMovementTable {
  order_ref: string;
  type: 'PAYMENT' | 'REFUND' | 'LOSS';
  movement_id: string;
  request_hash: string;
  created_at: CreatedAt;
}

/** Append-only (migration 009): UPDATE and DELETE are refused by the database. */
export interface AuditLogTable {
  id: string;
  at: CreatedAt;
  /** The principal: `operator`, `client:<id>`, `cli:<os user>`, `system`. */
  actor: string;
  key_id: string | null;
  action: string;
  subject: string | null;
  details: ColumnType<unknown, string, never>;
}

/** An impact preview of a draft rule set (issue 15); `version` is the draft's content hash. */
export interface RuleSetPreviewTable {
  id: string;
  version: string;
  result: ColumnType<unknown, string, never>;
  created_by: string;
  created_at: CreatedAt;
}

/** The change feed (migration 010): one row per change and per client that may see it. */
export interface EventTable {
  id: Generated<string>;
  /** The writing transaction (xid8, as text): set by the database. */
  xid: Generated<string>;
  client_id: string;
  type: string;
  entity_id: string;
  at: CreatedAt;
  data: ColumnType<unknown, string, never>;
}

export interface Database {
  contracting_companies: ContractingCompanyTable;
  contract_modules: ContractModuleTable;
  clients: ClientTable;
  api_keys: ApiKeyTable;
  connections: ConnectionTable;
  connection_history: ConnectionHistoryTable;
  mails: MailTable;
  idempotency_keys: IdempotencyKeyTable;
  rule_sets: RuleSetTable;
  offers: OfferTable;
  offer_targets: OfferTargetTable;
  available_pairs: AvailablePairView;
  pair_availability: PairAvailabilityTable;
  carts: CartTable;
  cart_sources: CartSourceTable;
  orders: OrderTable;
  payout_rows: PayoutRowTable;
  order_movements: OrderMovementTable;
  audit_log: AuditLogTable;
  rule_set_previews: RuleSetPreviewTable;
  events: EventTable;
  connection_callbacks: ConnectionCallbackTable;
  order_claims: OrderClaimTable;
  callback_deliveries: CallbackDeliveryTable;
  callback_attempts: CallbackAttemptTable;
}

export type Client = Selectable<ClientTable>;
export type NewClient = Insertable<ClientTable>;
export type ConnectionRow = Selectable<ConnectionTable>;
export type ConnectionHistoryRow = Selectable<ConnectionHistoryTable>;
export type ApiKey = Selectable<ApiKeyTable>;
export type IdempotencyRecord = Selectable<IdempotencyKeyTable>;
export type OfferRow = Selectable<OfferTable>;
export type CartRow = Selectable<CartTable>;
export type OrderRow = Selectable<OrderTable>;
export type PayoutRowRecord = Selectable<PayoutRowTable>;

/** A connection's callback (migration 011): stored by the API before the connection exists. */
export interface ConnectionCallbackTable {
  connection_id: string;
  url: string;
  /** api/secrets.ts format (with the key id); null only for invitations of the old gap. Never returned. */
  secret_enc: string | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** One claim code per (order, source): the source links the buyer to a customer of its own. */
export interface OrderClaimTable {
  code: string;
  order_ref: string;
  source_client_id: string;
  claimed_customer_id: string | null;
  claimed_at: Timestamp | null;
  created_at: CreatedAt;
}

export type CallbackDeliveryState = 'pending' | 'delivered' | 'failed';

/** The callback outbox: written with the order or movement it tells of (docs/callbacks.md). */
export interface CallbackDeliveryTable {
  id: string;
  queue: string;
  connection_id: string;
  order_ref: string;
  callback_type: string;
  movement_id: string;
  /** Per (connection, order): 1 for the purchase, then one more per movement. */
  sequence: number;
  /** The JSON body exactly as sent, the same on every attempt. */
  body: string;
  state: CallbackDeliveryState;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  give_up_at: Timestamp;
  lease_token: string | null;
  lease_until: Timestamp | null;
  last_error: string | null;
  created_at: CreatedAt;
  delivered_at: Timestamp | null;
}

export interface CallbackAttemptTable {
  delivery_id: string;
  attempt: number;
  at: Timestamp;
  latency_ms: number;
  status_code: number | null;
  error: string | null;
  outcome: 'delivered' | 'retry' | 'failed';
}
