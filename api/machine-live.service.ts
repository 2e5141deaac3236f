/**
 * A live connection or cart for the /machines page: its state as its workflow answers the `state`
 * query (not the read model, which may lag), the run and its Temporal UI link, the rule-set
 * version *it* is pinned to and the machine drawn with that version's policy, the events possible
 * now and for whom (asked of the machine and the pinned rules, like the workflow's validators), and
 * its history. What could not be checked is said in `warnings`, never passed off as allowed. Reads
 * only; a client sees its own connections and carts, the viewer and the operator any; anyone else
 * gets 404.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Kysely } from 'kysely';
import { getCart } from '../db/cart.repository.ts';
import { getPartyFacts } from '../db/client.repository.ts';
import { getConnection, getConnectionHistory, toConnectionView } from '../db/connection.repository.ts';
import { getActiveRuleSetVersion } from '../db/rule-set.repository.ts';
import type { Database } from '../db/schema.ts';
import type { CartItem } from '../domain/cart.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';
import { cartCommands } from '../machines/cart.commands.ts';
import { cartMachine, type CartCommandEvent, type CartContext } from '../machines/cart.machine.ts';
import { explainCartRefusal } from '../machines/cart.refusal.ts';
import { hasFlag } from '../machines/commands.ts';
import { connectionCommands } from '../machines/connection.commands.ts';
import { connectionMachine, type CommandEvent, type ConnectionContext } from '../machines/connection.machine.ts';
import { explainRefusal } from '../machines/connection.refusal.ts';
import { cartFacts } from '../rules/cart-facts.ts';
import { clientFacts, commandFacts } from '../rules/connection-facts.ts';
import type { RulesEvaluator } from '../rules/evaluator.ts';
import type { Principal } from './auth.ts';
import { ApiError } from './errors.ts';
import { machineSvg, rulesOfVersion } from './machines.service.ts';
import { withTemporalDeadline } from './temporal-deadline.ts';

export interface LiveDeps {
  db: Kysely<Database>;
  temporal: { client: Client; namespace: string };
  temporalDeadlineMs: number;
  /** Base URL of the Temporal UI (the dev server's, or CCX_TEMPORAL_UI_URL); none: no link. */
  temporalUiUrl?: string | undefined;
}

export interface PossibleEvent {
  event: string;
  role: string;
  clientId: string | null;
  allowed: boolean;
  /**
   * The pinned rules' guards of a command its table marks `guarded`: `checked`, or `unknown` when
   * they could not be asked (rule set or facts missing here: `allowed` is the machine's word
   * alone); `none` for a command without guards or one the machine refused first.
   */
  guards: 'checked' | 'unknown' | 'none';
  refusal: { code: string; message: string; rule: string | null } | null;
}

export interface LiveView {
  kind: 'connection' | 'cart';
  id: string;
  workflowId: string;
  runId: string;
  runStatus: string;
  temporalUiUrl: string | null;
  /** Exactly what the workflow's `state` query answered. */
  state: { value: string; context: Record<string, unknown>; version: number; ruleSetVersion: string | null };
  /** Null when the workflow names a version never published here (a run given its rule set in full). */
  pinnedRuleSet: { version: string; name: string } | null;
  activeRuleSetVersion: string | null;
  /** The machine with the pinned rule set's rules and mails on its edges; none drawn when that set is unknown here. */
  svg: string;
  /** What this answer could not check, in words (the page shows them). */
  warnings: string[];
  possible: PossibleEvent[];
  history: Array<{ at: string; event: string; actor: string | null; from: string | null; to: string | null }>;
}

interface StateAnswer { value: string; context: Record<string, unknown>; version: number; ruleSetVersion: string | null }

const notFound = () => new ApiError(ErrorCode.NOT_FOUND, 'no connection or cart of that id is visible to this key');
const sees = (principal: Principal, clientIds: readonly string[]) => principal.kind !== 'client' || clientIds.includes(principal.clientId);

/** Which workflow an id names (a connection or cart id, or a workflow id) and whether the caller may see it. */
async function locate(db: Kysely<Database>, id: string, principal: Principal): Promise<{ kind: 'connection' | 'cart'; workflowId: string; entityId: string | null }> {
  if (isUuid(id)) {
    const connection = await getConnection(db, id);
    if (connection) {
      if (!sees(principal, [connection.source_client_id, connection.target_client_id])) throw notFound();
      return { kind: 'connection', workflowId: connection.workflow_id, entityId: connection.id };
    }
    const cart = await getCart(db, id);
    if (cart) {
      if (!sees(principal, [cart.client_id])) throw notFound();
      return { kind: 'cart', workflowId: cart.workflow_id, entityId: cart.id };
    }
    throw notFound();
  }
  const [kind, first, second, ...rest] = id.split(':');
  if (rest.length > 0 || !first || !second) throw notFound();
  if (kind === 'connection' && sees(principal, [first, second])) return { kind, workflowId: id, entityId: null };
  if (kind === 'cart' && sees(principal, [first])) return { kind, workflowId: id, entityId: second };
  throw notFound();
}

export async function liveView(deps: LiveDeps, id: string, principal: Principal): Promise<LiveView> {
  const target = await locate(deps.db, id, principal);
  const { client } = deps.temporal;
  const { answer, runId, runStatus } = await withTemporalDeadline(deps, async () => {
    const latest = client.workflow.getHandle(target.workflowId);
    const first = await queryRun(latest);
    // A connection id of an earlier invitation of the pair: its run is an older one of the same id.
    if (target.kind === 'connection' && target.entityId && first.answer.context.connectionId !== target.entityId) {
      for await (const run of client.workflow.list({ query: `WorkflowId = '${target.workflowId.replace(/'/g, '')}'` })) {
        const older = await queryRun(client.workflow.getHandle(target.workflowId, run.runId));
        if (older.answer.context.connectionId === target.entityId) return older;
      }
      throw notFound();
    }
    return first;
  }).catch((err: unknown) => {
    if ((err as { name?: string }).name === 'WorkflowNotFoundError') throw notFound();
    throw err;
  });
  const entityId = target.entityId ?? String(answer.context[target.kind === 'connection' ? 'connectionId' : 'cartId'] ?? '');
  const pinned = await pinnedRules(deps.db, answer.ruleSetVersion);
  const warnings: string[] = [];
  if (!pinned) {
    warnings.push(answer.ruleSetVersion
      ? `pinned to rule set ${answer.ruleSetVersion}, which was never published here: its guards are not checked (a verdict marked so is the machine's alone) and the drawing shows no rules`
      : 'the workflow names no rule set: no guard is checked and the drawing shows no rules');
  }
  const view = {
    kind: target.kind,
    id: entityId,
    workflowId: target.workflowId,
    runId,
    runStatus,
    temporalUiUrl: deps.temporalUiUrl
      ? `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.temporal.namespace)}/workflows/${encodeURIComponent(target.workflowId)}/${runId}/history`
      : null,
    state: answer,
    pinnedRuleSet: pinned ? { version: pinned.ruleSet.hash, name: pinned.ruleSet.name } : null,
    activeRuleSetVersion: (await getActiveRuleSetVersion(deps.db)) ?? null,
    // The pinned version's policy, not the one picked at the top of the page.
    svg: machineSvg(target.kind, pinned?.ruleSet ?? null),
    warnings,
  };
  if (target.kind === 'connection') {
    return {
      ...view,
      possible: await possibleConnectionEvents(deps.db, answer, pinned?.evaluator ?? null, warnings),
      history: (await getConnectionHistory(deps.db, entityId)).map((h) => ({ at: h.at.toISOString(), event: h.event, actor: h.actor, from: h.from_status, to: h.to_status })),
    };
  }
  return {
    ...view,
    possible: await possibleCartEvents(deps.db, answer, pinned?.evaluator ?? null, warnings),
    history: await withTemporalDeadline(deps, () => cartTimeline(client, target.workflowId, runId)),
  };
}

/** The rule set a workflow is pinned to, or null when none is named or it was never published here. */
async function pinnedRules(db: Kysely<Database>, version: string | null) {
  if (!version) return null;
  return rulesOfVersion(db, version).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === ErrorCode.NOT_FOUND) return null;
    throw err;
  });
}

async function queryRun(handle: ReturnType<Client['workflow']['getHandle']>): Promise<{ answer: StateAnswer; runId: string; runStatus: string }> {
  const [answer, description] = await Promise.all([handle.query<StateAnswer>('state'), handle.describe()]);
  return { answer, runId: description.runId, runStatus: description.status.name };
}

type Verdict = Pick<PossibleEvent, 'guards' | 'refusal'>;
const fromMachine = (r: { code: string; message: string } | null): Verdict =>
  ({ guards: 'none', refusal: r ? { code: r.code, message: r.message, rule: null } : null });
const fromRules = (v: ReturnType<RulesEvaluator['checkGuards']>): Verdict =>
  ({ guards: 'checked', refusal: v.allowed ? null : { code: v.code, message: v.message, rule: v.rule } });
const possibleEvent = (event: string, role: string, clientId: string | null, v: Verdict): PossibleEvent =>
  ({ event, role, clientId, allowed: v.refusal === null, guards: v.guards, refusal: v.refusal });

/**
 * Each command as each party would send it now: the machine's verdict, then — for a command its
 * table marks `guarded`, as the workflow does — the pinned rules' guards.
 */
async function possibleConnectionEvents(db: Kysely<Database>, answer: StateAnswer, rules: RulesEvaluator | null, warnings: string[]): Promise<PossibleEvent[]> {
  const context = answer.context as unknown as ConnectionContext;
  const snapshot = connectionMachine.resolveState({ value: answer.value, context });
  const [source, target, row] = await Promise.all([
    getPartyFacts(db, context.sourceClientId, CROSS_CLIENT_MODULE),
    getPartyFacts(db, context.targetClientId, CROSS_CLIENT_MODULE),
    getConnection(db, context.connectionId),
  ]);
  // The rule facts the workflow holds, as the read model knows them now.
  const facts = source && target && row ? { parties: { source, target }, view: toConnectionView(row) } : null;
  if (rules && !facts) warnings.push('a party or the connection is missing from the read model: its guards are not checked');
  const possible: PossibleEvent[] = [];
  for (const name of Object.keys(connectionCommands) as Array<keyof typeof connectionCommands>) {
    for (const role of ['source', 'target'] as const) {
      const actor = role === 'source' ? context.sourceClientId : context.targetClientId;
      const event = { type: name, actor, ...(name === 'setOfferAccess' ? { offerAccess: !context.offerAccess } : {}) } as CommandEvent;
      let verdict = fromMachine(explainRefusal(snapshot, event));
      if (!verdict.refusal && hasFlag(connectionCommands, 'guarded', name)) {
        verdict = rules && facts ? fromRules(rules.checkGuards(`connection.${name}`, commandFacts(facts.view, facts.parties, actor))) : { guards: 'unknown', refusal: null };
      }
      possible.push(possibleEvent(name, role, actor, verdict));
    }
  }
  if (snapshot.can({ type: 'expire' })) {
    possible.push(possibleEvent('expire', `the workflow's timer, at ${context.expiresAt ?? 'its deadline'}`, null, fromMachine(null)));
  }
  return possible;
}

/** As for a connection; the guards read the seller's facts as the read model knows them now (as createCart does). */
async function possibleCartEvents(db: Kysely<Database>, answer: StateAnswer, rules: RulesEvaluator | null, warnings: string[]): Promise<PossibleEvent[]> {
  const context = answer.context as unknown as CartContext;
  const snapshot = cartMachine.resolveState({ value: answer.value, context: { cartId: context.cartId, clientId: context.clientId, title: context.title, items: context.items } });
  const party = await getPartyFacts(db, context.clientId, CROSS_CLIENT_MODULE);
  const seller = party ? clientFacts(party) : null;
  if (rules && !seller) warnings.push(`the seller ${context.clientId} is missing from the read model: its guards are not checked`);
  const cart = cartFacts({ id: context.cartId, title: context.title, status: answer.value }, context.items as CartItem[]);
  const possible = (Object.keys(cartCommands) as Array<keyof typeof cartCommands>).map((name) => {
    const event = { type: name, actor: context.clientId, ...(name === 'setItems' ? { items: context.items } : {}) } as CartCommandEvent;
    let verdict = fromMachine(explainCartRefusal(snapshot, event));
    if (!verdict.refusal && hasFlag(cartCommands, 'guarded', name)) {
      verdict = rules && seller ? fromRules(rules.checkGuards(`cart.${name}`, { seller, cart })) : { guards: 'unknown', refusal: null };
    }
    return possibleEvent(name, 'seller', context.clientId, verdict);
  });
  if (snapshot.can({ type: 'availabilityChanged', items: context.items })) {
    possible.push(possibleEvent('availabilityChanged', 'the availability fan-out', null, fromMachine(null)));
  }
  return possible;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Every run of a workflow id up to `runId`, oldest first. Each run continued as new names the one
 * before it in its first event, so the chain is exact (the visibility store may lag). A run
 * Temporal no longer keeps (past retention) ends the walk, said so on the timeline.
 */
async function runsOf(client: Client, workflowId: string, runId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  for (let run: string | null | undefined = runId; run; ) {
    let events: HistoryEvent[];
    try {
      events = (await client.workflow.getHandle(workflowId, run).fetchHistory()).events ?? [];
    } catch (err) {
      if (runs.length === 0 || !isGrpcServiceError(err) || err.code !== 5 /* NOT_FOUND */) throw err;
      runs.unshift([]); // an empty run: the timeline says earlier steps are gone
      break;
    }
    runs.unshift(events);
    run = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  }
  return runs;
}

/**
 * A cart keeps no history table: its timeline is its workflow's Temporal history over every run
 * (a long-lived cart continues as new) — each accepted command (update) with its actor, each
 * availability signal.
 */
async function cartTimeline(client: Client, workflowId: string, runId: string): Promise<LiveView['history']> {
  const out: LiveView['history'] = [];
  for (const events of await runsOf(client, workflowId, runId)) {
    if (events.length === 0) out.push({ at: '', event: 'earlier runs no longer kept by Temporal', actor: null, from: null, to: null });
    for (const e of events) out.push(...timelineSteps(e));
  }
  return out;
}

function timelineSteps(e: HistoryEvent): LiveView['history'] {
  const out: LiveView['history'] = [];
  const at = e.eventTime?.seconds != null ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString() : '';
  const started = e.workflowExecutionStartedEventAttributes;
  // A continued run's start is the previous run's "continued as new": one step, not two.
  if (started && !started.continuedExecutionRunId) out.push({ at, event: 'start', actor: null, from: null, to: null });
  const update = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
  if (update?.name) {
    let actor: string | null = null;
    try {
      const payload = update.args?.payloads?.[0];
      actor = payload ? ((defaultPayloadConverter.fromPayload(payload) as { actor?: string }).actor ?? null) : null;
    } catch {
      actor = null; // an argument we cannot read is still a step of the timeline
    }
    out.push({ at, event: update.name, actor, from: null, to: null });
  }
  const signal = e.workflowExecutionSignaledEventAttributes;
  if (signal?.signalName) out.push({ at, event: signal.signalName, actor: null, from: null, to: null });
  if (e.workflowExecutionContinuedAsNewEventAttributes) out.push({ at, event: 'continued as new', actor: null, from: null, to: null });
  return out;
}
