/**
 * The update handlers of a connection: synchronous validators over workflow state only (design.md
 * decision 2), and handlers that transition before their first await (decision 3) and return once
 * the read model is written.
 */
import { setHandler, upsertMemo } from '@temporalio/workflow';
import type { CommandEvent } from '../machines/connection.machine.ts';
import { tryCreateEvaluator } from '../rules/evaluator.ts';
import type { ConnectionEntity, PinnedRules, Transition } from './connection.entity.ts';
import { ErrorCode, refusalFailure } from './errors.ts';
import {
  acceptUpdate,
  blockUpdate,
  declineUpdate,
  endUpdate,
  setOfferAccessUpdate,
  unblockUpdate,
  upgradeRulesUpdate,
  withdrawUpdate,
  type CommandArgs,
  type CompiledRuleSet,
  type ConnectionView,
} from './messages.ts';

const commands: Array<[typeof acceptUpdate, (args: CommandArgs) => CommandEvent]> = [
  [acceptUpdate, ({ actor }) => ({ type: 'accept', actor })],
  [declineUpdate, ({ actor }) => ({ type: 'decline', actor })],
  [withdrawUpdate, ({ actor }) => ({ type: 'withdraw', actor })],
  [blockUpdate, ({ actor }) => ({ type: 'block', actor })],
  [unblockUpdate, ({ actor }) => ({ type: 'unblock', actor })],
  [endUpdate, ({ actor }) => ({ type: 'end', actor })],
];

const notReady = () => refusalFailure({ code: ErrorCode.INVALID_TRANSITION, message: 'the connection is still being set up; retry' });

export function registerCommandHandlers(current: () => ConnectionEntity | undefined, record: (t: Transition) => Promise<void>): void {
  const validate = (connectionId: string, event: CommandEvent) => {
    const entity = current();
    if (!entity) throw notReady();
    const refusal = entity.refusal(connectionId, event, new Date());
    if (refusal) throw refusalFailure(refusal);
  };
  const handle = async (event: CommandEvent): Promise<ConnectionView> => {
    const entity = current()!;
    const t = entity.apply(event, new Date()); // synchronous: before the first await
    if (t) await record(t);
    return t ? t.view : entity.view();
  };
  for (const [update, toEvent] of commands) {
    setHandler(update, (args) => handle(toEvent(args)), { validator: (args) => validate(args.connectionId, toEvent(args)) });
  }
  const toOfferEvent = (args: { actor: string; offerAccess: boolean }): CommandEvent => ({
    type: 'setOfferAccess',
    actor: args.actor,
    offerAccess: args.offerAccess,
  });
  setHandler(setOfferAccessUpdate, (args) => handle(toOfferEvent(args)), {
    validator: (args) => validate(args.connectionId, toOfferEvent(args)),
  });
}

/** Operator update `upgradeRules`: the only way a running connection changes its rule set. */
export function registerUpgradeHandler(current: () => ConnectionEntity | undefined, record: (t: Transition) => Promise<void>): void {
  setHandler(
    upgradeRulesUpdate,
    async ({ ruleSet }) => {
      const entity = current()!;
      const t = entity.upgradeRules(pinRules(ruleSet), new Date());
      if (!t) return entity.view();
      upsertMemo({ ruleSetVersion: ruleSet.hash });
      await record(t);
      return t.view;
    },
    {
      validator: ({ ruleSet }) => {
        const entity = current();
        if (!entity) throw notReady();
        const refusal = entity.upgradeRefusal();
        if (refusal) throw refusalFailure(refusal);
        const made = tryCreateEvaluator(ruleSet);
        if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: `rule set ${ruleSet?.hash} is not usable: ${made.error}` });
      },
    },
  );
}

/** Builds the evaluator for a rule set; an unusable one is an ApplicationFailure, never a task failure. */
export function pinRules(ruleSet: CompiledRuleSet): PinnedRules {
  const made = tryCreateEvaluator(ruleSet);
  if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: `rule set is not usable: ${made.error}` });
  return { ruleSet, evaluator: made.evaluator };
}
