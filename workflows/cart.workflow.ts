/**
 * One entity workflow per cart (id `cart:<client>:<cartId>`). It hosts the cart machine: commands
 * arrive as Updates (one per declared command), availability as a signal from the pair's fan-out.
 * A new cart records itself (which registers its sources for the fan-out) and then reads the
 * availability of its sources once, so a change between the two is never missed. All state and
 * every step on it live in CartEntity; this file only wires handlers, activities and the loop.
 */
import type { UpdateDefinition } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  currentUpdateInfo,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CartActivities } from '../activities/cart.activities.ts';
import type { ConnectionActivities } from '../activities/connection.activities.ts';
import type { PairAvailability } from '../domain/availability.ts';
import type { CartView } from '../domain/cart.ts';
import { ErrorCode } from '../domain/errors.ts';
import { cartCommands, type CartCommandName } from '../machines/cart.commands.ts';
import { commandEvent, commandNames } from '../machines/commands.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { activityPresets, searchAttributes } from '../temporal.config.ts';
import { CartEntity, type CartTransition } from './cart.entity.ts';
import {
  availabilitySignal,
  cartCreatedUpdate,
  cartStateQuery,
  cartUpdates,
  cartUpgradeRulesUpdate,
  cartViewQuery,
  type CartCommandArgs,
  type CartWorkflowInput,
} from './cart.messages.ts';
import { refusalFailure } from './errors.ts';
import { AnsweredUpdates } from './answered-updates.ts';
import { historyLimitProblem } from './connection.input.ts';
import { isRefusal, pinned, pinRules } from './pinned-rules.ts';
import { cartDetails, cartRecordSummary } from './cart.details.ts';
import { inputRuleSet, ruleSetInputProblem } from './rule-set-input.ts';

const store = proxyActivities<CartActivities & Pick<ConnectionActivities, 'loadActiveRuleSet'>>(activityPresets.database);
/** The record, with a line for the Temporal UI's event list ("record activate → active"). */
const recorder = (summary: string) => proxyActivities<CartActivities>({ ...activityPresets.database, summary });

export async function cartWorkflow(input: CartWorkflowInput): Promise<CartView> {
  const problem = cartInputProblem(input);
  if (problem) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: problem });
  let entity: CartEntity | undefined;
  const answered = new AnsweredUpdates<CartView>(input.resume?.answeredUpdates as Array<[string, CartView]> | undefined);
  let ready = false; // recorded, and the availability of its sources read
  const pending: PairAvailability[] = [];
  const { workflowId } = workflowInfo();
  // A continued run has all it needs in its input: it is set up before any handler exists, because
  // registering a handler at once dispatches the updates delivered with the run's first task — a
  // command arriving just after continue-as-new must find the cart ready, not "being set up".
  if (input.resume && input.ruleSet) {
    entity = CartEntity.resume(input, input.resume, workflowId, pinned(input.ruleSet));
    ready = entity.unknownSources.length === 0;
  }

  // Handlers, registered before the first await. Validators are synchronous and read only
  // workflow state; handlers transition before their first await and answer once recorded.
  for (const name of commandNames(cartCommands)) {
    // Every command's args extend CartCommandArgs; its own fields are checked by commandEvent.
    const update: UpdateDefinition<CartView, [CartCommandArgs]> = cartUpdates[name];
    setHandler(update, (args) => runCommand(name, args), { validator: (args) => validateCommand(name, args) });
  }
  setHandler(cartUpgradeRulesUpdate, ({ ruleSet }) => upgradeRules(ruleSet), { validator: ({ ruleSet }) => validateUpgrade(ruleSet) });
  setHandler(cartCreatedUpdate, async ({ cartId }) => {
    await condition(() => ready);
    if (cartId !== input.cartId) throw refusalFailure({ code: ErrorCode.NOT_FOUND, message: 'cart not found' });
    return entity!.view();
  });
  setHandler(cartStateQuery, () => current().snapshotForQuery());
  setHandler(cartViewQuery, () => current().view());
  // Applied in the loop, in arrival order, once the cart knows its sources.
  setHandler(availabilitySignal, (pair) => void pending.push(pair));

  if (!entity) {
    const rules = pinned(await inputRuleSet(input, () => store.loadActiveRuleSet()));
    if (input.resume) {
      entity = CartEntity.resume(input, input.resume, workflowId, rules);
    } else {
      const created = CartEntity.create(input, workflowId, new Date(), rules);
      entity = created.entity;
      const memo = workflowInfo().memo ?? {};
      if (memo.cartId !== input.cartId || memo.ruleSetVersion !== rules.ruleSet.hash || memo.ruleSetName !== rules.ruleSet.name) {
        upsertMemo({ cartId: input.cartId, ruleSetVersion: rules.ruleSet.hash, ruleSetName: rules.ruleSet.name });
      }
      await record(created.first);
    }
  }
  await readUnknownSources();
  ready = true;
  setCurrentDetails(cartDetails(entity, input.seller.name)); // a continued run shows it from its start

  for (;;) {
    await condition(() => pending.length > 0 || entity!.unknownSources.length > 0 || entity!.isFinal || shouldContinueAsNew(input));
    while (pending.length > 0) {
      const t = entity.applyAvailability(pending.shift()!, new Date());
      if (t) await record(t);
    }
    await readUnknownSources();
    if (!entity.isFinal && !shouldContinueAsNew(input)) continue;
    // Quiesce: every accepted command recorded and every signal applied before the run ends.
    await condition(() => allHandlersFinished() && pending.length === 0);
    if (entity.isFinal) return entity.view();
    return continueAsNew<typeof cartWorkflow>({ ...input, ruleSet: entity.ruleSet, ruleSetVersion: undefined, items: [], resume: { ...entity.toResume(), answeredUpdates: answered.toCarry() } });
  }

  function current(): CartEntity {
    if (!entity) throw new Error('the cart is still being set up');
    return entity;
  }

  /** Items of a source the cart has not heard of (new cart, new items): read its availability once. */
  async function readUnknownSources(): Promise<void> {
    const sources = entity!.unknownSources;
    if (sources.length === 0 || entity!.isFinal) return;
    const pairs = await store.loadCartAvailability({ sellerClientId: input.clientId, sourceClientIds: sources });
    for (const pair of pairs) {
      const t = entity!.applyAvailability(pair, new Date());
      if (t) await record(t);
    }
  }

  function validateCommand(name: CartCommandName, args: CartCommandArgs): void {
    if (answered.get(currentUpdateInfo()?.id)) return; // a retry: answered by the handler
    if (!entity || !ready) throw refusalFailure({ code: ErrorCode.INVALID_TRANSITION, message: 'the cart is still being set up; retry' });
    const made = commandEvent(cartCommands, name, args);
    if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: made.message });
    const refusal = entity.refusal(args.cartId, made.event, input.seller);
    if (refusal) throw refusalFailure(refusal);
  }

  async function runCommand(name: CartCommandName, args: CartCommandArgs): Promise<CartView> {
    const updateId = currentUpdateInfo()?.id;
    const earlier = answered.get(updateId);
    if (earlier) return earlier;
    const made = commandEvent(cartCommands, name, args);
    if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: made.message });
    const t = entity!.apply(made.event, new Date()); // synchronous: before the first await
    if (t) await record(t);
    await readUnknownSources(); // new items of a new source: their availability before the answer
    const view = entity!.view();
    answered.remember(updateId, view);
    return view;
  }

  function validateUpgrade(ruleSet: CompiledRuleSet): void {
    if (!entity) throw refusalFailure({ code: ErrorCode.INVALID_TRANSITION, message: 'the cart is still being set up; retry' });
    const refusal = entity.upgradeRefusal();
    if (refusal) throw refusalFailure(refusal);
    const made = pinRules(ruleSet);
    if (isRefusal(made)) throw refusalFailure(made);
  }

  async function upgradeRules(ruleSet: CompiledRuleSet): Promise<CartView> {
    const t = entity!.upgradeRules(pinned(ruleSet), new Date());
    if (!t) return entity!.view();
    upsertMemo({ ruleSetVersion: ruleSet.hash, ruleSetName: ruleSet.name });
    await record(t);
    return t.view;
  }

  async function record(t: CartTransition): Promise<void> {
    await recorder(cartRecordSummary(t)).recordCartTransition({ view: t.view });
    setCurrentDetails(cartDetails(entity!, input.seller.name));
    upsertSearchAttributes([
      { key: searchAttributes.CartStatus, value: entity!.status },
      { key: searchAttributes.ClientId, value: input.clientId },
      { key: searchAttributes.RuleSetVersion, value: entity!.ruleSet.hash },
    ]);
  }
}

function shouldContinueAsNew(input: CartWorkflowInput): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (input.historyEventLimit !== undefined && info.historyLength >= input.historyEventLimit);
}

/** What is wrong with an input from a caller going to Temporal directly, or null (never a thrown task error). */
function cartInputProblem(input: CartWorkflowInput): string | null {
  if (typeof input?.cartId !== 'string' || typeof input.clientId !== 'string' || !input.cartId || !input.clientId) return 'cartId and clientId must be non-empty strings';
  if (typeof input.title !== 'string') return 'title must be a string';
  if (!Array.isArray(input.items)) return 'items must be a list';
  if (!input.seller || input.seller.id !== input.clientId) return 'seller must be the facts of the client that owns the cart';
  return ruleSetInputProblem(input) ?? historyLimitProblem(input.historyEventLimit);
}
