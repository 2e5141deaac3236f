/**
 * A live connection or cart for the /machines page: its state as its workflow answers the `state`
 * query (not the read model, which may lag), the run and its Temporal UI link, the rule-set
 * version *it* is pinned to, the events possible now and for whom (asked of the machine and the
 * pinned rules, like the workflow's validators), and its history. Reads only; a client sees its
 * own connections and carts, the viewer and the operator any; anyone else gets 404.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
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
import { connectionCommands } from '../machines/connection.commands.ts';
import { connectionMachine, type CommandEvent, type ConnectionContext } from '../machines/connection.machine.ts';
import { explainRefusal } from '../machines/connection.refusal.ts';
import { cartFacts } from '../rules/cart-facts.ts';
import { commandFacts } from '../rules/connection-facts.ts';
import type { RulesEvaluator } from '../rules/evaluator.ts';
import type { Principal } from './auth.ts';
import { ApiError } from './errors.ts';
import { rulesOfVersion } from './machines.service.ts';
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
  pinnedRuleSet: { version: string; name: string } | null;
  activeRuleSetVersion: string | null;
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
  const pinned = answer.ruleSetVersion ? await rulesOfVersion(deps.db, answer.ruleSetVersion).catch(() => null) : null;
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
  };
  if (target.kind === 'connection') {
    return {
      ...view,
      possible: await possibleConnectionEvents(deps.db, answer, pinned?.evaluator ?? null),
      history: (await getConnectionHistory(deps.db, entityId)).map((h) => ({ at: h.at.toISOString(), event: h.event, actor: h.actor, from: h.from_status, to: h.to_status })),
    };
  }
  return { ...view, possible: possibleCartEvents(answer, pinned?.evaluator ?? null), history: await cartTimeline(client, target.workflowId, runId) };
}

async function queryRun(handle: ReturnType<Client['workflow']['getHandle']>): Promise<{ answer: StateAnswer; runId: string; runStatus: string }> {
  const [answer, description] = await Promise.all([handle.query<StateAnswer>('state'), handle.describe()]);
  return { answer, runId: description.runId, runStatus: description.status.name };
}

/** Each command as each party would send it now: the machine's verdict, then the pinned rules' guards. */
async function possibleConnectionEvents(db: Kysely<Database>, answer: StateAnswer, rules: RulesEvaluator | null): Promise<PossibleEvent[]> {
  const context = answer.context as unknown as ConnectionContext;
  const snapshot = connectionMachine.resolveState({ value: answer.value, context });
  const [source, target, row] = await Promise.all([
    getPartyFacts(db, context.sourceClientId, CROSS_CLIENT_MODULE),
    getPartyFacts(db, context.targetClientId, CROSS_CLIENT_MODULE),
    getConnection(db, context.connectionId),
  ]);
  const possible: PossibleEvent[] = [];
  for (const name of Object.keys(connectionCommands) as Array<keyof typeof connectionCommands>) {
    for (const role of ['source', 'target'] as const) {
      const actor = role === 'source' ? context.sourceClientId : context.targetClientId;
      const event = { type: name, actor, ...(name === 'setOfferAccess' ? { offerAccess: !context.offerAccess } : {}) } as CommandEvent;
      let refusal: PossibleEvent['refusal'] = null;
      const machine = explainRefusal(snapshot, event);
      if (machine) refusal = { code: machine.code, message: machine.message, rule: null };
      else if (name === 'accept' && rules && source && target && row) {
        // The rule facts the workflow holds, as the read model knows them now.
        const verdict = rules.checkGuards('connection.accept', commandFacts(toConnectionView(row), { source, target }, actor));
        if (!verdict.allowed) refusal = { code: verdict.code, message: verdict.message, rule: verdict.rule };
      }
      possible.push({ event: name, role, clientId: actor, allowed: refusal === null, refusal });
    }
  }
  if (snapshot.can({ type: 'expire' })) {
    possible.push({ event: 'expire', role: `the workflow's timer, at ${context.expiresAt ?? 'its deadline'}`, clientId: null, allowed: true, refusal: null });
  }
  return possible;
}

function possibleCartEvents(answer: StateAnswer, rules: RulesEvaluator | null): PossibleEvent[] {
  const context = answer.context as unknown as CartContext;
  const snapshot = cartMachine.resolveState({ value: answer.value, context: { cartId: context.cartId, clientId: context.clientId, title: context.title, items: context.items } });
  const possible: PossibleEvent[] = (Object.keys(cartCommands) as Array<keyof typeof cartCommands>).map((name) => {
    const event = { type: name, actor: context.clientId, ...(name === 'setItems' ? { items: context.items } : {}) } as CartCommandEvent;
    const machine = explainCartRefusal(snapshot, event);
    let refusal: PossibleEvent['refusal'] = machine ? { code: machine.code, message: machine.message, rule: null } : null;
    if (!refusal && rules && (name === 'setItems' || name === 'activate')) {
      const seller = { id: context.clientId, name: '', language: 'de', company: { id: '', moduleActive: true } };
      const verdict = rules.checkGuards(`cart.${name}`, { seller, cart: cartFacts({ id: context.cartId, title: context.title, status: answer.value }, context.items as CartItem[]) });
      if (!verdict.allowed) refusal = { code: verdict.code, message: verdict.message, rule: verdict.rule };
    }
    return { event: name, role: 'seller', clientId: context.clientId, allowed: refusal === null, refusal };
  });
  if (snapshot.can({ type: 'availabilityChanged', items: context.items })) {
    possible.push({ event: 'availabilityChanged', role: 'the availability fan-out', clientId: null, allowed: true, refusal: null });
  }
  return possible;
}

/**
 * A cart keeps no history table: its timeline is its run's Temporal history — each accepted
 * command (update) with its actor, each availability signal.
 */
async function cartTimeline(client: Client, workflowId: string, runId: string): Promise<LiveView['history']> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const out: LiveView['history'] = [];
  for (const e of history.events ?? []) {
    const at = e.eventTime?.seconds != null ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString() : '';
    if (e.workflowExecutionStartedEventAttributes) out.push({ at, event: 'start', actor: null, from: null, to: null });
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
  }
  return out;
}
