/**
 * The world the load runs in, and the load itself.
 *
 * World (made over HTTP at setup, as an operator and the clients would): one contracting company
 * with the module on; `pairs` lifecycle pairs (source S_i, target T_i); `shops` shop pairs (a
 * source Q_k whose cross-client offer is shared with seller V_k over an active connection with
 * offer access, and an active cart of V_k holding its own offer plus Q_k's).
 *
 * Load: one driver per lifecycle pair, sequential (the next command only after the previous got a
 * 2xx): invite (offer access off) → accept → setOfferAccess(on) → block → unblock (by the blocker)
 * → end → re-invite …, actors alternating per cycle; one purchase loop per shop (own item +
 * external item, a new order id each). Every command is recorded with its outcome; a command left
 * without an answer at the window's end (outcome unknown) stops its driver until the next window,
 * which first re-reads the pair's state from Postgres.
 */
import type pg from 'pg';
import type { ApiClient } from './http.ts';
import { sleep } from './util.ts';

export interface Party {
  id: string;
  key: string;
  email: string;
}

export interface Pair {
  index: number;
  source: Party;
  target: Party;
  /** The driver's view of the pair's newest connection. */
  state: { connectionId: string | null; status: string; offerAccess: boolean; blockedBy: string | null; unblocked: boolean };
  cycles: number;
  needsResync: boolean;
  /** Shop pairs are set up once and only carry purchases. */
  shop: boolean;
}

export interface Shop {
  index: number;
  pair: Pair;
  source: Party;
  seller: Party;
  cartId: string;
  ownOfferId: string;
  extOfferId: string;
  seq: number;
}

export interface World {
  operatorKey: string;
  companyId: string;
  pairs: Pair[];
  shops: Shop[];
}

export type CommandKind = 'invite' | 'accept' | 'setOfferAccess' | 'block' | 'unblock' | 'end';

export interface CommandRecord {
  seq: number;
  scenario: string;
  pair: number;
  kind: CommandKind;
  actor: string;
  /** The connection addressed (null for an invitation: the API mints its id). */
  connectionId: string | null;
  sentAt: number;
  finishedAt: number;
  /** Last answer's status (0: none) and error code. */
  status: number;
  code?: string;
  acked: boolean;
  gaveUp: boolean;
  attempts: number;
  ackVersion?: number;
  ackConnectionId?: string;
}

export interface PurchaseRecord {
  scenario: string;
  shop: number;
  sellerClientId: string;
  sourceClientId: string;
  orderId: string;
  sentAt: number;
  finishedAt: number;
  status: number;
  code?: string;
  acked: boolean;
  gaveUp: boolean;
  attempts: number;
  extOfferId: string;
  extAmount: number;
  /** Payout rows in the 2xx answer. */
  answerRows?: number;
}

export interface LoadLog {
  commands: CommandRecord[];
  purchases: PurchaseRecord[];
}

const FINAL = new Set(['declined', 'withdrawn', 'expired', 'ended', 'rejected']);

export async function buildWorld(api: ApiClient, operatorKey: string, options: { pairs: number; shops: number }, log: LoadLog): Promise<World> {
  const company = await api.must('POST', '/v1/contracting-companies', operatorKey, { name: 'Fault Verlag' });
  await api.must('PUT', `/v1/contracting-companies/${company.id}/modules/CROSS_CLIENT_CONNECTIONS`, operatorKey);
  let n = 0;
  const client = async (name: string): Promise<Party> => {
    const email = `${name.toLowerCase()}@faults.test`;
    const res = await api.must('POST', '/v1/clients', operatorKey, { contractingCompanyId: company.id, name, email, language: n++ % 2 ? 'en' : 'de' });
    return { id: res.client.id, key: res.apiKey, email };
  };
  const newPair = (index: number, source: Party, target: Party, shop: boolean): Pair => ({
    index, source, target, shop, cycles: 0, needsResync: false,
    state: { connectionId: null, status: 'none', offerAccess: false, blockedBy: null, unblocked: false },
  });
  const pairs: Pair[] = [];
  for (let i = 0; i < options.pairs; i++) pairs.push(newPair(i, await client(`Quelle${i}`), await client(`Ziel${i}`), false));
  const shops: Shop[] = [];
  for (let k = 0; k < options.shops; k++) {
    const pair = newPair(options.pairs + k, await client(`Partner${k}`), await client(`Laden${k}`), true);
    pairs.push(pair);
    const deadline = Date.now() + 60_000;
    const invite = await api.command('POST', '/v1/connections', pair.source.key, { targetClientId: pair.target.id, offerAccess: true }, deadline);
    recordCommand(log, 'setup', pair, 'invite', pair.source.id, null, Date.now(), invite);
    if (!invite.acked) throw new Error(`shop invite: ${invite.final.status} ${JSON.stringify(invite.final.body)}`);
    const connectionId = invite.final.body.id as string;
    const accept = await api.command('POST', `/v1/connections/${connectionId}/accept`, pair.target.key, undefined, deadline);
    recordCommand(log, 'setup', pair, 'accept', pair.target.id, connectionId, Date.now(), accept);
    if (!accept.acked) throw new Error(`shop accept: ${accept.final.status} ${JSON.stringify(accept.final.body)}`);
    pair.state = { connectionId, status: 'active', offerAccess: true, blockedBy: null, unblocked: false };
    const ext = await api.must('POST', '/v1/offers', pair.source.key, {
      title: `Partnerabo ${k}`, priceMinor: 1999, currency: 'EUR', crossClient: true, connectedClientIds: [pair.target.id],
      products: [{ name: 'Digital', costCenter: `KST-P${k}` }],
    });
    const own = await api.must('POST', '/v1/offers', pair.target.key, {
      title: `Hausabo ${k}`, priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Print', costCenter: `KST-L${k}` }],
    });
    const draft = await api.must('POST', '/v1/carts', pair.target.key, {
      title: `Kombi ${k}`, items: [{ offerId: own.id, mandatory: true }, { offerId: ext.id, mandatory: false }],
    });
    await api.must('POST', `/v1/carts/${draft.id}/activate`, pair.target.key);
    // The external item becomes sellable once the pair's availability reaches the cart.
    const until = Date.now() + 60_000;
    for (;;) {
      const cart = await api.request('GET', `/v1/carts/${draft.id}`, pair.target.key);
      const item = cart.status === 200 ? (cart.body.items as Array<{ offerId: string; available: boolean }>).find((i) => i.offerId === ext.id) : undefined;
      if (cart.status === 200 && cart.body.status === 'active' && item?.available) break;
      if (Date.now() > until) throw new Error(`cart ${draft.id} never offered the external item: ${JSON.stringify(cart.body)}`);
      await sleep(500);
    }
    shops.push({ index: k, pair, source: pair.source, seller: pair.target, cartId: draft.id, ownOfferId: own.id, extOfferId: ext.id, seq: 0 });
  }
  return { operatorKey, companyId: company.id, pairs, shops };
}

let seq = 0;
function recordCommand(
  log: LoadLog,
  scenario: string,
  pair: Pair,
  kind: CommandKind,
  actor: string,
  connectionId: string | null,
  sentAt: number,
  outcome: Awaited<ReturnType<ApiClient['command']>>,
): CommandRecord {
  const body = outcome.final.body;
  const record: CommandRecord = {
    seq: seq++, scenario, pair: pair.index, kind, actor, connectionId, sentAt, finishedAt: Date.now(),
    status: outcome.final.status, acked: outcome.acked, gaveUp: outcome.gaveUp, attempts: outcome.attempts,
    ...(body?.error?.code ? { code: String(body.error.code) } : {}),
    ...(outcome.acked ? { ackVersion: Number(body.version), ackConnectionId: String(body.id) } : {}),
  };
  log.commands.push(record);
  return record;
}

/** The pair's newest connection as Postgres has it (after an unknown outcome or a refusal). */
async function resync(pool: pg.Pool, pair: Pair): Promise<void> {
  const row = (
    await pool.query(
      `select c.id, c.status, c.offer_access, c.blocked_by,
              exists (select 1 from connection_history h where h.connection_id = c.id and h.event = 'unblock') as unblocked,
              (select count(*) from connections x where x.source_client_id = c.source_client_id and x.target_client_id = c.target_client_id)::int as cycles
         from connections c where c.source_client_id = $1 and c.target_client_id = $2
        order by c.created_at desc, c.id desc limit 1`,
      [pair.source.id, pair.target.id],
    )
  ).rows[0];
  pair.state = row
    ? { connectionId: row.id, status: row.status, offerAccess: row.offer_access, blockedBy: row.blocked_by, unblocked: row.unblocked }
    : { connectionId: null, status: 'none', offerAccess: false, blockedBy: null, unblocked: false };
  pair.cycles = row?.cycles ?? 0;
  pair.needsResync = false;
}

function nextStep(pair: Pair): { kind: CommandKind; actor: Party; method: 'POST' | 'PATCH'; url: string; body?: unknown } {
  const s = pair.state;
  const odd = pair.cycles % 2 === 1;
  if (!s.connectionId || FINAL.has(s.status)) {
    return { kind: 'invite', actor: pair.source, method: 'POST', url: '/v1/connections', body: { targetClientId: pair.target.id, offerAccess: false } };
  }
  const at = `/v1/connections/${s.connectionId}`;
  if (s.status === 'invited') return { kind: 'accept', actor: pair.target, method: 'POST', url: `${at}/accept` };
  if (s.status === 'blocked') {
    const blocker = s.blockedBy === pair.target.id ? pair.target : pair.source;
    return { kind: 'unblock', actor: blocker, method: 'POST', url: `${at}/unblock` };
  }
  if (!s.offerAccess) return { kind: 'setOfferAccess', actor: pair.source, method: 'PATCH', url: at, body: { offerAccess: true } };
  if (!s.unblocked) return { kind: 'block', actor: odd ? pair.target : pair.source, method: 'POST', url: `${at}/block` };
  return { kind: 'end', actor: odd ? pair.source : pair.target, method: 'POST', url: `${at}/end` };
}

/** Drives one lifecycle pair until `deadline` (see the file comment). */
export async function drivePair(api: ApiClient, pool: pg.Pool, pair: Pair, scenario: string, deadline: () => number, thinkMs: number, log: LoadLog): Promise<void> {
  while (Date.now() < deadline()) {
    if (pair.needsResync) {
      try {
        await resync(pool, pair);
      } catch {
        await sleep(1000); // Postgres may be down right now
        continue;
      }
    }
    const step = nextStep(pair);
    const connectionId = step.kind === 'invite' ? null : pair.state.connectionId;
    const sentAt = Date.now();
    const outcome = await api.command(step.method, step.url, step.actor.key, step.body, deadline);
    const record = recordCommand(log, scenario, pair, step.kind, step.actor.id, connectionId, sentAt, outcome);
    if (record.acked) {
      const view = outcome.final.body;
      if (step.kind === 'invite') {
        pair.cycles++;
        pair.state.unblocked = false;
      }
      if (step.kind === 'unblock') pair.state.unblocked = true;
      pair.state = { ...pair.state, connectionId: view.id, status: view.status, offerAccess: view.offerAccess, blockedBy: view.blockedBy };
    } else {
      // Unknown outcome at the deadline, or a refusal we did not expect: Postgres says where we are.
      pair.needsResync = true;
      if (record.gaveUp) return;
    }
    await sleep(thinkMs);
  }
}

/** Purchases of one shop until `deadline`: own item + external item, a new order id each. */
export async function driveShop(api: ApiClient, shop: Shop, scenario: string, deadline: () => number, thinkMs: number, log: LoadLog): Promise<void> {
  while (Date.now() < deadline()) {
    shop.seq++;
    const orderId = `${scenario}-${shop.index}-${shop.seq}`;
    const extAmount = 1000 + shop.seq;
    const body = {
      orderId, customerId: `KUNDE-${shop.seq}`, paymentMethod: 'PAYPAL', currency: 'EUR',
      items: [{ offerId: shop.ownOfferId, amountMinor: 500 + (shop.seq % 7) }, { offerId: shop.extOfferId, amountMinor: extAmount }],
    };
    const sentAt = Date.now();
    const outcome = await api.command('POST', `/v1/carts/${shop.cartId}/purchases`, shop.seller.key, body, deadline);
    const answer = outcome.final.body;
    log.purchases.push({
      scenario, shop: shop.index, sellerClientId: shop.seller.id, sourceClientId: shop.source.id, orderId, sentAt, finishedAt: Date.now(),
      status: outcome.final.status, acked: outcome.acked, gaveUp: outcome.gaveUp, attempts: outcome.attempts, extOfferId: shop.extOfferId, extAmount,
      ...(answer?.error?.code ? { code: String(answer.error.code) } : {}),
      ...(outcome.acked ? { answerRows: Array.isArray(answer?.payouts) ? answer.payouts.length : -1 } : {}),
    });
    if (outcome.gaveUp) return;
    await sleep(thinkMs);
  }
}
