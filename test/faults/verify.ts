/**
 * What the suite checks after each scenario, reading the private Postgres, the SMTP server's
 * record and Temporal directly (never through the API under test):
 *
 *  commands   every acknowledged (2xx) command is in connection_history exactly once, at the
 *             version and connection its answer named; every history row is explained by exactly
 *             one command we sent (no duplicate, no phantom); a command refused with a 4xx did not
 *             take effect; per connection the versions run 1..n without gaps, each `from` is the
 *             previous `to`, and the row shows the last version and status.
 *  payouts    every acknowledged purchase has its order and exactly its PAYMENT row (one per
 *             external item, with its amount); an unacknowledged one has all or nothing; a refused
 *             one nothing; no row belongs to an order we did not send.
 *  mails      expected Message-IDs derived from connection_history and the recorded orders with
 *             each connection's pinned rule set (`notifications`); each must have arrived at least
 *             once, at the right recipient; raw duplicates (same Message-ID twice) are counted.
 *  workflows  every workflow is closed, or running in a state that matches its read-model row;
 *             none failed (but purchases refused by the domain), was terminated or timed out, none
 *             has a failing workflow task.
 *  http       no 5xx but 503; every 503 within 5 s; 503 only while a part the API's answers depend
 *             on (Temporal, Postgres, a worker) was down, plus a grace to notice the recovery (SMTP
 *             is not such a part: mails go out after the answer); likewise no 409
 *             IDEMPOTENCY_IN_PROGRESS to a retry outside those times (our client never overlaps two
 *             requests with one key, so that answer means a key still held by an attempt that
 *             already answered 503); every request answered.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type pg from 'pg';
import { searchAttributes } from '../../temporal.config.ts';
import type { Attempt } from './http.ts';
import { elapsed } from './util.ts';
import type { CommandRecord, LoadLog, World } from './load.ts';
import type { ReceivedMessage } from './smtp.ts';

export interface Anomaly {
  scenario: string;
  check: 'commands' | 'payouts' | 'mails' | 'workflows' | 'http' | 'processes';
  detail: string;
}

export interface FaultWindow {
  scenario: string;
  part: string;
  /** Whether the API's answers depend on this part (SMTP: no — mails are sent after the answer). */
  apiDependency: boolean;
  downAt: number;
  upAt?: number;
}

const FINAL = new Set(['declined', 'withdrawn', 'expired', 'ended', 'rejected']);
const MAIL_EVENTS = new Set(['invite', 'accept', 'decline', 'withdraw', 'expire', 'setOfferAccess', 'block', 'unblock', 'end']);

interface HistoryRow {
  connection_id: string;
  version: number;
  event: string;
  actor: string | null;
  from_status: string | null;
  to_status: string;
}
interface ConnectionRow {
  id: string;
  source_client_id: string;
  target_client_id: string;
  status: string;
  version: number;
  rule_set_version: string | null;
  created_at: Date;
}
interface Notification {
  template: string;
  recipient: 'source' | 'target' | 'otherParty';
  enabled: boolean;
}

export interface ExpectedMail {
  messageId: string;
  scenario: string;
  to: string;
}

export interface CommandCheck {
  applied: Map<number, boolean>;
  /** Scenario each history row is attributed to (`<connectionId>.<version>`). */
  rowScenario: Map<string, string>;
  anomalies: Anomaly[];
}

export class Verifier {
  private ruleSets = new Map<string, Record<string, Notification>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly temporal: Client,
    private readonly world: World,
    private readonly log: LoadLog,
  ) {}

  private async notifications(version: string | null): Promise<Record<string, Notification>> {
    const key = version ?? '';
    const known = this.ruleSets.get(key);
    if (known) return known;
    const row = (await this.pool.query('select compiled from rule_sets where version = $1', [version])).rows[0];
    if (!row) throw new Error(`rule set ${version} not found`);
    const notifications = (row.compiled as { notifications?: Record<string, Notification> }).notifications ?? {};
    this.ruleSets.set(key, notifications);
    return notifications;
  }

  private async connections(): Promise<{ connections: ConnectionRow[]; history: Map<string, HistoryRow[]> }> {
    const connections = (
      await this.pool.query<ConnectionRow>(
        'select id, source_client_id, target_client_id, status, version, rule_set_version, created_at from connections order by created_at, id',
      )
    ).rows;
    const history = new Map<string, HistoryRow[]>();
    for (const h of (await this.pool.query<HistoryRow>('select connection_id, version, event, actor, from_status, to_status from connection_history order by connection_id, version')).rows) {
      const list = history.get(h.connection_id) ?? [];
      list.push(h);
      history.set(h.connection_id, list);
    }
    return { connections, history };
  }

  /** See "commands" in the file comment. */
  async checkCommands(): Promise<CommandCheck> {
    const { connections, history } = await this.connections();
    const anomalies: Anomaly[] = [];
    const applied = new Map<number, boolean>();
    const rowScenario = new Map<string, string>();
    const pairOf = new Map(this.world.pairs.map((p) => [`${p.source.id}:${p.target.id}`, p]));

    for (const pair of this.world.pairs) {
      const rows = connections
        .filter((c) => c.source_client_id === pair.source.id && c.target_client_id === pair.target.id)
        .flatMap((c) => history.get(c.id) ?? []);
      const commands = this.log.commands.filter((c) => c.pair === pair.index);
      let j = 0;
      let lastScenario = 'setup';
      const matches = (c: CommandRecord, h: HistoryRow) =>
        h.event === c.kind && h.actor === c.actor && (c.kind === 'invite' ? h.version === 1 : h.connection_id === c.connectionId);
      const claim = (c: CommandRecord, h: HistoryRow) => {
        applied.set(c.seq, true);
        rowScenario.set(`${h.connection_id}.${h.version}`, c.scenario);
      };
      const unexplained = (h: HistoryRow, scenario: string) => {
        rowScenario.set(`${h.connection_id}.${h.version}`, scenario);
        anomalies.push({ scenario, check: 'commands', detail: `pair ${pair.index}: history row ${h.connection_id} v${h.version} ${h.event} by ${h.actor} matches no command sent (duplicate or phantom effect)` });
      };
      for (const [n, c] of commands.entries()) {
        lastScenario = c.scenario;
        applied.set(c.seq, false);
        const h = rows[j];
        if (c.acked) {
          // Search ahead: rows skipped on the way are unexplained.
          let k = j;
          while (k < rows.length && !matches(c, rows[k]!)) k++;
          if (k === rows.length) {
            anomalies.push({ scenario: c.scenario, check: 'commands', detail: `pair ${pair.index}: acknowledged ${c.kind} by ${c.actor} (#${c.seq}, answer v${c.ackVersion} of ${c.ackConnectionId}) is not in connection_history` });
            continue;
          }
          for (; j < k; j++) unexplained(rows[j]!, c.scenario);
          const row = rows[k]!;
          if (row.version !== c.ackVersion || row.connection_id !== c.ackConnectionId) {
            anomalies.push({ scenario: c.scenario, check: 'commands', detail: `pair ${pair.index}: ${c.kind} #${c.seq} answered v${c.ackVersion} of ${c.ackConnectionId}, history has it at v${row.version} of ${row.connection_id}` });
          }
          claim(c, row);
          j = k + 1;
          continue;
        }
        // Unknown outcome or refused: took effect at most once. If the driver sent the same
        // command again after re-reading the state, this one had not taken effect then.
        const next = commands[n + 1];
        const repeated = next && next.kind === c.kind && next.actor === c.actor && next.connectionId === c.connectionId;
        if (h && matches(c, h) && !repeated) {
          claim(c, h);
          j++;
          if (!c.gaveUp) {
            anomalies.push({ scenario: c.scenario, check: 'commands', detail: `pair ${pair.index}: ${c.kind} #${c.seq} was answered ${c.status} ${c.code ?? ''} after ${c.attempts} attempt(s) but took effect (v${h.version} of ${h.connection_id})` });
          }
        }
      }
      for (; j < rows.length; j++) unexplained(rows[j]!, lastScenario);
    }
    // Per connection: contiguous versions, from = previous to, row = last history entry.
    for (const c of connections) {
      const rows = history.get(c.id) ?? [];
      const scenario = rowScenario.get(`${c.id}.${(history.get(c.id) ?? []).at(-1)?.version}`) ?? 'n/a';
      rows.forEach((h, i) => {
        if (h.version !== i + 1) anomalies.push({ scenario, check: 'commands', detail: `connection ${c.id}: history versions ${rows.map((r) => r.version).join(',')} are not 1..${rows.length}` });
        if (i > 0 && h.from_status !== rows[i - 1]!.to_status) anomalies.push({ scenario, check: 'commands', detail: `connection ${c.id} v${h.version}: from ${h.from_status} but v${i} went to ${rows[i - 1]!.to_status}` });
      });
      const last = rows.at(-1);
      if (!last) anomalies.push({ scenario, check: 'commands', detail: `connection ${c.id} has no history` });
      else if (last.version !== c.version || last.to_status !== c.status) {
        anomalies.push({ scenario, check: 'commands', detail: `connection ${c.id}: row v${c.version} ${c.status}, history ends v${last.version} ${last.to_status}` });
      }
      if (!pairOf.has(`${c.source_client_id}:${c.target_client_id}`)) anomalies.push({ scenario, check: 'commands', detail: `connection ${c.id} between clients the load never paired` });
    }

    return { applied, rowScenario, anomalies };
  }

  /** Message-IDs the product owes (see "mails" in the file comment), attributed to scenarios. */
  async expectedMails(rowScenario: Map<string, string>): Promise<ExpectedMail[]> {
    const { connections, history } = await this.connections();
    const email = new Map(this.world.pairs.flatMap((p) => [[p.source.id, p.source.email], [p.target.id, p.target.email]] as const));
    const out: ExpectedMail[] = [];
    for (const c of connections) {
      const notifications = await this.notifications(c.rule_set_version);
      for (const h of history.get(c.id) ?? []) {
        if (!MAIL_EVENTS.has(h.event) || (h.event === 'invite' && h.to_status !== 'invited')) continue;
        const n = notifications[`connection.${h.event}`];
        if (!n?.enabled) continue;
        const other = h.actor === c.source_client_id ? c.target_client_id : c.source_client_id;
        const to = n.recipient === 'source' ? c.source_client_id : n.recipient === 'target' ? c.target_client_id : other;
        out.push({ messageId: `<${c.id}.${h.version}.${n.template}@ccx>`, scenario: rowScenario.get(`${c.id}.${h.version}`) ?? 'setup', to: email.get(to) ?? to });
      }
    }
    const scenarioOfOrder = new Map(this.log.purchases.map((p) => [`${p.sellerClientId}:${p.orderId}`, p.scenario]));
    const sales = (
      await this.pool.query<{ seller: string; order_id: string; source: string; version: string }>(
        `select distinct connected_client_id as seller, order_id, source_client_id as source, rule_set_version as version
           from payout_rows where type = 'PAYMENT' and movement_id = order_id`,
      )
    ).rows;
    for (const s of sales) {
      const n = (await this.notifications(s.version))['purchase.record'];
      if (!n?.enabled) continue;
      const to = n.recipient === 'target' ? s.seller : s.source;
      out.push({
        messageId: `<purchase.${s.seller}.${s.order_id}.${s.source}.${n.template}@ccx>`,
        scenario: scenarioOfOrder.get(`${s.seller}:${s.order_id}`) ?? 'n/a',
        to: email.get(to) ?? to,
      });
    }
    return out;
  }

  /** See "payouts" in the file comment; figures per scenario. */
  async checkPayouts(): Promise<{ anomalies: Anomaly[]; perScenario: Map<string, { expected: number; found: number; recorded: number }>; recorded: Set<string> }> {
    const anomalies: Anomaly[] = [];
    const perScenario = new Map<string, { expected: number; found: number; recorded: number }>();
    const orders = new Map(
      (await this.pool.query<{ seller_client_id: string; order_id: string; n: number }>('select seller_client_id, order_id, count(*)::int as n from orders group by 1, 2')).rows.map((r) => [`${r.seller_client_id}:${r.order_id}`, r.n]),
    );
    const rows = new Map<string, Array<{ type: string; offer_id: string; amount_minor: string; source_client_id: string; movement_id: string }>>();
    for (const r of (await this.pool.query('select connected_client_id, order_id, type, offer_id, amount_minor, source_client_id, movement_id from payout_rows')).rows) {
      const key = `${r.connected_client_id}:${r.order_id}`;
      rows.set(key, [...(rows.get(key) ?? []), r]);
    }
    const sent = new Set<string>();
    for (const p of this.log.purchases) {
      const key = `${p.sellerClientId}:${p.orderId}`;
      sent.add(key);
      const figures = perScenario.get(p.scenario) ?? { expected: 0, found: 0, recorded: 0 };
      perScenario.set(p.scenario, figures);
      const recorded = orders.get(key) ?? 0;
      const found = rows.get(key) ?? [];
      figures.found += found.length;
      figures.recorded += recorded;
      const what = `order ${p.orderId} (answer ${p.status}${p.code ? ` ${p.code}` : ''}, ${p.attempts} attempt(s))`;
      if (recorded > 1) anomalies.push({ scenario: p.scenario, check: 'payouts', detail: `${what}: ${recorded} orders` });
      if (p.acked || recorded > 0) {
        figures.expected += 1; // one external item per purchase
        if (recorded === 0) anomalies.push({ scenario: p.scenario, check: 'payouts', detail: `${what}: acknowledged but no order recorded` });
        const good = found.filter((r) => r.type === 'PAYMENT' && r.offer_id === p.extOfferId && Number(r.amount_minor) === p.extAmount && r.source_client_id === p.sourceClientId && r.movement_id === p.orderId);
        if (found.length !== 1 || good.length !== 1) anomalies.push({ scenario: p.scenario, check: 'payouts', detail: `${what}: expected exactly 1 PAYMENT row of ${p.extAmount}, found ${found.length} (${found.map((r) => `${r.type} ${r.amount_minor}`).join(', ')})` });
        if (p.acked && p.answerRows !== 1) anomalies.push({ scenario: p.scenario, check: 'payouts', detail: `${what}: the answer listed ${p.answerRows} payout rows, expected 1` });
      } else if (found.length > 0) {
        anomalies.push({ scenario: p.scenario, check: 'payouts', detail: `${what}: no order but ${found.length} payout row(s)` });
      }
      if (!p.acked && !p.gaveUp && recorded > 0) anomalies.push({ scenario: p.scenario, check: 'payouts', detail: `${what}: refused, yet the order was recorded` });
    }
    for (const [key, list] of rows) if (!sent.has(key)) anomalies.push({ scenario: 'n/a', check: 'payouts', detail: `${list.length} payout row(s) of order ${key} that the load never sent` });
    return { anomalies, perScenario, recorded: new Set(orders.keys()) };
  }

  private async allWorkflows(query?: string): Promise<WorkflowExecutionInfo[]> {
    const out: WorkflowExecutionInfo[] = [];
    for await (const wf of this.temporal.workflow.list(query ? { query } : {})) out.push(wf);
    return out;
  }

  /** Work still under way: running workflows that should finish on their own, connections final but still running. */
  async stillBusy(): Promise<string[]> {
    const running = await this.allWorkflows('ExecutionStatus = "Running"');
    const busy = running.filter((w) => !['connectionWorkflow', 'cartWorkflow'].includes(w.type)).map((w) => `${w.type} ${w.workflowId}`);
    const finals = new Set(
      (await this.pool.query<{ workflow_id: string }>(
        `select distinct on (source_client_id, target_client_id) workflow_id, status from connections order by source_client_id, target_client_id, created_at desc`,
      )).rows.filter((r: any) => FINAL.has(r.status)).map((r) => r.workflow_id),
    );
    for (const w of running) if (w.type === 'connectionWorkflow' && finals.has(w.workflowId)) busy.push(`connectionWorkflow ${w.workflowId} (final, still running)`);
    return busy;
  }

  /** See "workflows" in the file comment. */
  async checkWorkflows(scenario: string): Promise<{ anomalies: Anomaly[]; counts: Record<string, number> }> {
    const anomalies: Anomaly[] = [];
    const add = (detail: string) => anomalies.push({ scenario, check: 'workflows', detail });
    const all = await this.allWorkflows();
    const latest = new Map<string, WorkflowExecutionInfo>();
    const counts: Record<string, number> = {};
    for (const wf of all) {
      const known = latest.get(wf.workflowId);
      if (!known || wf.startTime > known.startTime) latest.set(wf.workflowId, wf);
      counts[wf.status.name] = (counts[wf.status.name] ?? 0) + 1;
      if (['TERMINATED', 'TIMED_OUT', 'CANCELLED'].includes(wf.status.name) || (wf.status.name === 'FAILED' && wf.type !== 'purchaseWorkflow')) {
        add(`${wf.type} ${wf.workflowId} (run ${wf.runId}) ${wf.status.name}`);
      }
    }
    const newest = new Map(
      (await this.pool.query<{ workflow_id: string; status: string; version: number }>(
        `select distinct on (workflow_id) workflow_id, status, version from connections order by workflow_id, created_at desc, id desc`,
      )).rows.map((r) => [r.workflow_id, r]),
    );
    const carts = new Map((await this.pool.query<{ workflow_id: string; status: string }>('select workflow_id, status from carts')).rows.map((r) => [r.workflow_id, r.status]));
    const orders = new Set((await this.pool.query<{ k: string }>(`select seller_client_id || ':' || order_id as k from orders`)).rows.map((r) => r.k));
    for (const wf of latest.values()) {
      const running = wf.status.name === 'RUNNING';
      if (wf.type === 'connectionWorkflow') {
        const row = newest.get(wf.workflowId);
        if (!row) {
          add(`${wf.workflowId}: no connection row`);
          continue;
        }
        if (!running && wf.status.name !== 'COMPLETED') continue; // reported above
        if (!running && !FINAL.has(row.status)) add(`${wf.workflowId}: ${wf.status.name} but its connection is ${row.status}`);
        if (running && FINAL.has(row.status)) add(`${wf.workflowId}: still running though its connection is ${row.status} (mails not yet handled?)`);
        if (running && !FINAL.has(row.status)) {
          const status = wf.typedSearchAttributes.get(searchAttributes.ConnectionStatus);
          if (status !== row.status) add(`${wf.workflowId}: search attribute ConnectionStatus=${status}, row ${row.status}`);
          const state = await this.temporal.workflow.getHandle(wf.workflowId).query<{ value: string; version: number }>('state').catch((err: unknown) => ({ value: `query failed: ${String(err)}`, version: -1 }));
          if (state.value !== row.status || state.version !== row.version) add(`${wf.workflowId}: workflow state ${state.value} v${state.version}, row ${row.status} v${row.version}`);
        }
      } else if (wf.type === 'cartWorkflow') {
        if (running && wf.typedSearchAttributes.get(searchAttributes.CartStatus) !== carts.get(wf.workflowId)) {
          add(`${wf.workflowId}: CartStatus=${wf.typedSearchAttributes.get(searchAttributes.CartStatus)}, row ${carts.get(wf.workflowId)}`);
        }
      } else if (running) {
        add(`${wf.type} ${wf.workflowId} still running after the settle period`);
      } else if (wf.type === 'purchaseWorkflow' && wf.status.name === 'FAILED') {
        const [, seller, orderId] = wf.workflowId.split(':');
        if (orders.has(`${seller}:${orderId}`)) add(`${wf.workflowId} FAILED although its order was recorded`);
      }
      if (running) {
        const d = await this.temporal.workflow.getHandle(wf.workflowId, wf.runId).describe().catch(() => undefined);
        const attempt = d?.raw.pendingWorkflowTask?.attempt ?? 0;
        if (attempt > 2) add(`${wf.type} ${wf.workflowId}: workflow task failing (attempt ${attempt})`);
      }
    }
    return { anomalies, counts };
  }
}

/** See "http" in the file comment. */
export function checkHttp(scenario: string, attempts: Attempt[], windows: FaultWindow[], graceMs: (part: string) => number) {
  const mine = attempts.filter((a) => a.scenario === scenario);
  const n503 = mine.filter((a) => a.status === 503);
  const n5xx = mine.filter((a) => a.status >= 500 && a.status !== 503);
  const none = mine.filter((a) => a.status === 0);
  const slow503 = n503.filter((a) => a.ms > 5000);
  const deps = windows.filter((w) => w.apiDependency);
  const duringOutage = (a: Attempt) => deps.some((w) => a.startedAt + a.ms >= w.downAt && a.startedAt <= (w.upAt ?? Infinity) + graceMs(w.part));
  const outside = n503.filter((a) => !duringOutage(a));
  // Our client never sends two requests with one key at once: IDEMPOTENCY_IN_PROGRESS means the
  // key is still held by an attempt that has already answered (503) — the retry api.md asks for
  // is refused. While every part is up, that is a 503 by another name.
  const stuck = mine.filter((a) => a.status === 409 && a.code === 'IDEMPOTENCY_IN_PROGRESS' && !duringOutage(a));
  const anomalies: Anomaly[] = [];
  // Times as in the log lines: seconds since the suite started; for a 503 outside every outage,
  // how long after the last repair it was sent.
  const sinceRepair = (a: Attempt) => {
    const before = deps.filter((w) => w.upAt !== undefined && w.upAt <= a.startedAt).sort((x, y) => y.upAt! - x.upAt!)[0];
    return before ? `, ${((a.startedAt - before.upAt!) / 1000).toFixed(1)} s after ${before.part} was back` : '';
  };
  const show = (list: Attempt[]) =>
    list.slice(0, 5).map((a) => `${a.method} ${a.route} → ${a.status || a.error} ${a.code ?? ''} in ${a.ms} ms, sent at ${elapsed(a.startedAt).trim()}s${a.status === 503 ? sinceRepair(a) : ''}`).join('; ');
  if (n5xx.length) anomalies.push({ scenario, check: 'http', detail: `${n5xx.length} answer(s) 5xx other than 503: ${show(n5xx)}` });
  if (slow503.length) anomalies.push({ scenario, check: 'http', detail: `${slow503.length} 503 answer(s) took longer than 5 s: ${show(slow503)}` });
  if (outside.length) {
    const routes = countBy(outside.map((a) => `${a.method} ${a.route}`));
    anomalies.push({ scenario, check: 'http', detail: `${outside.length} 503 answer(s) while Temporal, Postgres and the workers were up (grace ${deps.map((w) => `${w.part} ${graceMs(w.part) / 1000} s`).join(', ') || 'none'}): by route ${JSON.stringify(routes)}; e.g. ${show(outside)}` });
  }
  if (stuck.length) {
    const first = Math.min(...stuck.map((a) => a.startedAt));
    const last = Math.max(...stuck.map((a) => a.startedAt));
    anomalies.push({ scenario, check: 'http', detail: `${stuck.length} retry(ies) after a 503 answered 409 IDEMPOTENCY_IN_PROGRESS while Temporal, Postgres and the workers were up, from ${elapsed(first).trim()}s to ${elapsed(last).trim()}s: by route ${JSON.stringify(countBy(stuck.map((a) => `${a.method} ${a.route}`)))}` });
  }
  if (none.length) anomalies.push({ scenario, check: 'http', detail: `${none.length} request(s) without an answer: ${show(none)}` });
  return {
    anomalies,
    figures: {
      requests: mine.length,
      n503: n503.length,
      n500: n5xx.length,
      noAnswer: none.length,
      max503Ms: n503.reduce((m, a) => Math.max(m, a.ms), 0),
      maxMs: mine.reduce((m, a) => Math.max(m, a.ms), 0),
      n503Outside: outside.length,
      inProgressOutside: stuck.length,
      /** Latency of the 2xx answers: commands (connections) and purchases. */
      ackedMs: {
        commands: percentiles(mine.filter((a) => a.status >= 200 && a.status < 300 && a.route.startsWith('/v1/connections')).map((a) => a.ms)),
        purchases: percentiles(mine.filter((a) => a.status >= 200 && a.status < 300 && a.route.endsWith('/purchases')).map((a) => a.ms)),
      },
      byStatus: countBy(mine.map((a) => String(a.status))),
    },
  };
}

function percentiles(values: number[]): { n: number; p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}

export function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Expected vs received mails of one scenario. */
export function checkMails(scenario: string, expected: ExpectedMail[], received: Map<string, ReceivedMessage>) {
  const mine = expected.filter((m) => m.scenario === scenario);
  const missing = mine.filter((m) => !received.has(m.messageId));
  const got = mine.filter((m) => received.has(m.messageId));
  const wrongRecipient = got.filter((m) => !received.get(m.messageId)!.to.includes(m.to));
  const rawDuplicates = got.reduce((sum, m) => sum + received.get(m.messageId)!.count - 1, 0);
  const anomalies: Anomaly[] = [];
  if (missing.length) {
    const byTemplate = countBy(missing.map((m) => /\.([A-Za-z]+)@ccx>$/.exec(m.messageId)?.[1] ?? '?'));
    anomalies.push({ scenario, check: 'mails', detail: `${missing.length} of ${mine.length} expected mail(s) never arrived, by template ${JSON.stringify(byTemplate)}; e.g. ${missing.slice(0, 3).map((m) => m.messageId).join(' ')}` });
  }
  if (wrongRecipient.length) anomalies.push({ scenario, check: 'mails', detail: `${wrongRecipient.length} mail(s) at the wrong recipient, e.g. ${wrongRecipient[0]!.messageId} for ${wrongRecipient[0]!.to}` });
  return { anomalies, figures: { expected: mine.length, receivedDistinct: got.length, rawDuplicates, missing: missing.length, missingIds: missing.map((m) => m.messageId) } };
}
