/**
 * One entity workflow per open connection (id `connection:<source>:<target>`). It hosts the
 * connection machine: commands arrive as Updates (connection.handlers.ts), the expiry is a timer
 * armed from the deadline in context, and mails go through an outbox that a second loop delivers
 * — so neither an answer nor the expiry ever waits for SMTP, and a crashed worker resumes both
 * from history.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import type { createConnectionActivities } from '../activities/connection.activities.ts';
import { activityPresets, searchAttributes } from '../temporal.config.ts';
import { ConnectionEntity, type PendingMail, type Transition } from './connection.entity.ts';
import { inputProblem } from './connection.input.ts';
import { pinRules, registerCommandHandlers, registerUpgradeHandler } from './connection.handlers.ts';
import { ErrorCode, refusalFailure } from './errors.ts';
import {
  invitationUpdate,
  modulesChangedSignal,
  stateQuery,
  viewQuery,
  type ConnectionView,
  type ConnectionWorkflowInput,
} from './messages.ts';

type Activities = ReturnType<typeof createConnectionActivities>;
const store = proxyActivities<Activities>(activityPresets.database);
const mailer = proxyActivities<Activities>(activityPresets.mail);

export async function connectionWorkflow(input: ConnectionWorkflowInput): Promise<ConnectionView> {
  const problem = inputProblem(input);
  if (problem) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: problem });
  let entity: ConnectionEntity | undefined;
  let recordedVersion = 0;
  let sending = false;

  // Handlers are registered before the first await: an update delivered with the start would
  // otherwise be rejected as unknown.
  registerCommandHandlers(() => entity, record);
  registerUpgradeHandler(() => entity, record);
  setHandler(invitationUpdate, async ({ connectionId }) => {
    await condition(() => entity !== undefined && recordedVersion >= 1);
    if (connectionId !== input.connectionId) throw refusalFailure({ code: ErrorCode.NOT_FOUND, message: 'connection not found' });
    return entity!.view();
  });
  setHandler(stateQuery, () => ready().snapshotForQuery());
  setHandler(viewQuery, () => ready().view());
  setHandler(modulesChangedSignal, async (signal) => {
    await condition(() => entity !== undefined);
    entity!.applyModules(signal);
  });

  // Facts and rules come with the input (the API passes them) or are loaded once; either way
  // they are in history, so replays see the same ones.
  const parties = { sourceClientId: input.sourceClientId, targetClientId: input.targetClientId };
  const facts = input.facts ?? (await store.loadConnectionFacts(parties));
  const rules = pinRules(input.ruleSet ?? (await store.loadActiveRuleSet()));
  const { workflowId } = workflowInfo();
  if (input.resume) {
    entity = ConnectionEntity.resume(input, facts, input.resume, workflowId, rules);
    recordedVersion = entity.currentVersion;
  } else {
    const started = ConnectionEntity.invite(input, facts, workflowId, new Date(), rules);
    entity = started.entity;
    // Also for callers going to Temporal directly: the UI shows which connection and rules this is.
    upsertMemo({ connectionId: input.connectionId, ruleSetVersion: rules.ruleSet.hash });
    await record(started.first);
    // A module switched between the caller's facts and our first row missed its fan-out (which
    // lists rows): read the facts once more; revisions keep the newest.
    if (input.facts && !entity.isFinal) entity.refreshFacts(await store.loadConnectionFacts(parties));
  }

  void deliverMails(); // beside the lifecycle, until the run ends
  for (;;) {
    const expiresAt = entity.expiresAt;
    const wake = () => entity!.isFinal || shouldContinueAsNew(input) || entity!.expiresAt !== expiresAt;
    const woke = expiresAt === null ? (await condition(wake), true) : await condition(wake, Math.max(1, Date.parse(expiresAt) - Date.now()));
    if (!woke && entity.status === 'invited') {
      const expired = entity.apply({ type: 'expire' }, new Date());
      if (expired) await record(expired);
      continue;
    }
    if (!entity.isFinal && !shouldContinueAsNew(input)) continue;
    // Quiesce: every accepted command recorded, every mail sent. Nothing awaits between this
    // condition and the end of the run, so no command can slip in and be lost.
    await condition(() => allHandlersFinished() && entity!.outbox.length === 0 && !sending);
    if (entity.isFinal) return entity.view();
    return continueAsNew<typeof connectionWorkflow>({ ...input, facts: entity.currentFacts, ruleSet: entity.ruleSet, resume: entity.toResume() });
  }

  function ready(): ConnectionEntity {
    if (!entity) throw new Error('the connection is still being set up');
    return entity;
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

  /** Oldest first; a mail leaves the outbox only once handled, so continue-as-new never drops one. */
  async function deliverMails(): Promise<void> {
    for (;;) {
      await condition(() => entity!.outbox.length > 0);
      sending = true;
      try {
        await sendMail(entity!, entity!.outbox[0]!);
      } catch (err) {
        // Only a permanent refusal ends up here (the SMTP server rejected the recipient): the
        // mail cannot be delivered by retrying. It is logged; the lifecycle goes on.
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('system mail permanently refused', { mail: entity!.outbox[0], error: err.cause?.message });
      }
      entity!.outbox.shift();
      sending = false;
    }
  }
}

function shouldContinueAsNew(input: ConnectionWorkflowInput): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (input.historyEventLimit !== undefined && info.historyLength >= input.historyEventLimit);
}

async function sendMail(entity: ConnectionEntity, mail: PendingMail): Promise<void> {
  const { source, target } = entity.currentFacts;
  if (!target) return; // a rejected invitation to an unknown client sends nothing
  const [recipient, other] = mail.to === 'source' ? [source, target] : [target, source];
  await mailer.sendSystemMail({
    connectionId: entity.view().id,
    transition: mail.transition,
    template: mail.template,
    recipient,
    other,
    offerAccess: mail.offerAccess,
    expiresAt: mail.expiresAt,
  });
}
