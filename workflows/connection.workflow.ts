/**
 * One entity workflow per open connection (id `connection:<source>:<target>`). It hosts the
 * connection machine: commands arrive as Updates, are validated synchronously against the machine,
 * transition before the handler's first await, and return once the read model is written. Mails
 * go through an outbox drained by the main loop, so a slow SMTP server never delays an answer and
 * a crashed worker resumes them from history.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createConnectionActivities } from '../activities/connection.activities.ts';
import type { CommandEvent } from '../machines/connection.machine.ts';
import { tryCreateEvaluator } from '../rules/evaluator.ts';
import { activityPresets, searchAttributes } from '../temporal.config.ts';
import { ConnectionEntity, type PendingMail, type PinnedRules, type Transition } from './connection.entity.ts';
import { ErrorCode, refusalFailure } from './errors.ts';
import {
  acceptUpdate,
  blockUpdate,
  declineUpdate,
  endUpdate,
  invitationUpdate,
  modulesChangedSignal,
  setOfferAccessUpdate,
  stateQuery,
  unblockUpdate,
  upgradeRulesUpdate,
  viewQuery,
  withdrawUpdate,
  type CommandArgs,
  type CompiledRuleSet,
  type ConnectionView,
  type ConnectionWorkflowInput,
} from './messages.ts';

type Activities = ReturnType<typeof createConnectionActivities>;
const store = proxyActivities<Activities>(activityPresets.database);
const mailer = proxyActivities<Activities>(activityPresets.mail);

export async function connectionWorkflow(input: ConnectionWorkflowInput): Promise<ConnectionView> {
  let entity: ConnectionEntity | undefined;
  let recordedVersion = 0;

  // Handlers are registered before the first await: an update delivered with the start would
  // otherwise be rejected as unknown.
  registerCommands(() => entity, record);
  setHandler(invitationUpdate, async ({ connectionId }) => {
    await condition(() => entity !== undefined && recordedVersion >= 1);
    if (connectionId !== input.connectionId) throw refusalFailure({ code: 'NOT_FOUND', message: 'connection not found' });
    return entity!.view();
  });
  setHandler(stateQuery, () => {
    if (!entity) throw new Error('the connection is still being set up');
    return entity.snapshotForQuery();
  });
  setHandler(viewQuery, () => {
    if (!entity) throw new Error('the connection is still being set up');
    return entity.view();
  });
  setHandler(modulesChangedSignal, async (signal) => {
    await condition(() => entity !== undefined);
    entity!.applyModules(signal);
  });
  setHandler(
    upgradeRulesUpdate,
    async ({ ruleSet }) => {
      const t = entity!.upgradeRules(pin(ruleSet), new Date());
      if (t) {
        upsertMemo({ ruleSetVersion: ruleSet.hash });
        await record(t);
      }
      return t ? t.view : entity!.view();
    },
    {
      validator: ({ ruleSet }) => {
        if (!entity) throw refusalFailure({ code: ErrorCode.INVALID_TRANSITION, message: 'the connection is still being set up; retry' });
        const made = tryCreateEvaluator(ruleSet);
        if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: `rule set ${ruleSet?.hash} is not usable: ${made.error}` });
      },
    },
  );

  // Facts and rules come with the input (the API passes them) or are loaded once; either way
  // they are in history, so replays see the same ones.
  const facts = input.facts ?? (await store.loadConnectionFacts({ sourceClientId: input.sourceClientId, targetClientId: input.targetClientId }));
  const rules = pin(input.ruleSet ?? (await store.loadActiveRuleSet()));
  const { workflowId } = workflowInfo();
  if (input.resume) {
    entity = ConnectionEntity.resume(input, facts, input.resume, workflowId, rules);
    recordedVersion = entity.currentVersion;
  } else {
    const started = ConnectionEntity.invite(input, facts, workflowId, new Date(), rules);
    entity = started.entity;
    await record(started.first);
  }

  for (;;) {
    const expiresAt = entity.expiresAt;
    const wake = () => entity!.outbox.length > 0 || entity!.isFinal || shouldContinueAsNew(input);
    const woke = expiresAt === null ? (await condition(wake), true) : await condition(wake, Math.max(1, Date.parse(expiresAt) - Date.now()));
    if (!woke && entity.status === 'invited') {
      const expired = entity.apply({ type: 'expire' }, new Date());
      if (expired) await record(expired);
    }
    await drainOutbox(entity);
    if (entity.isFinal || shouldContinueAsNew(input)) {
      // Let in-flight commands finish (they may queue mails), then send those too.
      await condition(allHandlersFinished);
      await drainOutbox(entity);
      if (entity.isFinal) return entity.view();
      await continueAsNew<typeof connectionWorkflow>({
        ...input,
        facts: entity.currentFacts,
        ruleSet: entity.ruleSet,
        resume: entity.toResume(),
      });
    }
  }

  /** Writes the read model and history (stale versions are ignored there), then search attributes. */
  async function record(t: Transition): Promise<void> {
    await store.recordConnectionTransition(t);
    recordedVersion = Math.max(recordedVersion, t.view.version);
    upsertSearchAttributes([
      { key: searchAttributes.ConnectionStatus, value: entity!.status },
      { key: searchAttributes.OfferAccess, value: entity!.view().offerAccess },
      { key: searchAttributes.SourceClientId, value: input.sourceClientId },
      { key: searchAttributes.TargetClientId, value: input.targetClientId },
      { key: searchAttributes.RuleSetVersion, value: entity!.ruleSet.hash },
    ]);
  }
}

/** Builds the evaluator for a rule set; an unusable one fails the run (never the workflow task). */
function pin(ruleSet: CompiledRuleSet): PinnedRules {
  const made = tryCreateEvaluator(ruleSet);
  if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: `rule set is not usable: ${made.error}` });
  return { ruleSet, evaluator: made.evaluator };
}

function shouldContinueAsNew(input: ConnectionWorkflowInput): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (input.historyEventLimit !== undefined && info.historyLength >= input.historyEventLimit);
}

async function drainOutbox(entity: ConnectionEntity): Promise<void> {
  // Oldest first; a mail leaves the outbox only once sent, so continue-as-new never drops one.
  while (entity.outbox.length > 0) {
    await sendMail(entity, entity.outbox[0]!);
    entity.outbox.shift();
  }
}

async function sendMail(entity: ConnectionEntity, mail: PendingMail): Promise<void> {
  const { source, target } = entity.currentFacts;
  if (!target) return; // a rejected invitation to an unknown client sends nothing
  const [recipient, other] = mail.to === 'source' ? [source, target] : [target, source];
  const view = entity.view();
  await mailer.sendSystemMail({
    connectionId: view.id,
    transition: mail.transition,
    template: mail.template,
    recipient,
    other,
    offerAccess: view.offerAccess,
    expiresAt: view.expiresAt,
  });
}

const commands: Array<[typeof acceptUpdate, (args: CommandArgs) => CommandEvent]> = [
  [acceptUpdate, ({ actor }) => ({ type: 'accept', actor })],
  [declineUpdate, ({ actor }) => ({ type: 'decline', actor })],
  [withdrawUpdate, ({ actor }) => ({ type: 'withdraw', actor })],
  [blockUpdate, ({ actor }) => ({ type: 'block', actor })],
  [unblockUpdate, ({ actor }) => ({ type: 'unblock', actor })],
  [endUpdate, ({ actor }) => ({ type: 'end', actor })],
];

function registerCommands(current: () => ConnectionEntity | undefined, record: (t: Transition) => Promise<void>): void {
  const validate = (connectionId: string, event: CommandEvent) => {
    const entity = current();
    if (!entity) throw refusalFailure({ code: 'INVALID_TRANSITION', message: 'the connection is still being set up; retry' });
    const refusal = entity.refusal(connectionId, event);
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
