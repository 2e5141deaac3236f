/**
 * One entity workflow per open connection (id `connection:<source>:<target>`). It hosts the
 * connection machine: commands arrive as Updates (one per declared command) and the expiry is a
 * timer armed from the deadline in context. The mails a transition owes are recorded with it, in
 * one transaction, into the Postgres mail outbox that the workers' dispatchers deliver — so no
 * answer, no expiry, no end of a run and no later mail ever waits for SMTP. All state and every
 * step on it live in ConnectionEntity; this file only wires handlers, timers and activities
 * (docs/architecture.md "Workflows").
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { createConnectionActivities, SystemMail } from '../activities/connection.activities.ts';
import type { ConnectionFacts, ConnectionTransition, ConnectionView } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import { commandEvent, commandNames } from '../machines/commands.ts';
import { connectionRuleFacts } from '../rules/connection-facts.ts';
import { connectionCommands, type ConnectionCommandName } from '../machines/connection.commands.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import { activityPresets, searchAttributes } from '../temporal.config.ts';
import { AnsweredUpdates } from './answered-updates.ts';
import { ConnectionEntity, type PendingMail } from './connection.entity.ts';
import { currentDetails, recordSummary } from './connection.details.ts';
import { isRefusal, pinned, pinRules } from './pinned-rules.ts';
import { inputProblem } from './connection.input.ts';
import { inputRuleSet } from './rule-set-input.ts';
import { refusalFailure } from './errors.ts';
import {
  authorizeSaleUpdate,
  connectionUpdates,
  invitationUpdate,
  modulesChangedSignal,
  stateQuery,
  upgradeRulesUpdate,
  viewQuery,
  type AuthorizeSaleArgs,
  type CommandArgs,
  type ConnectionWorkflowInput,
} from './messages.ts';

type Activities = ReturnType<typeof createConnectionActivities>;
const store = proxyActivities<Activities>(activityPresets.database);
const mailer = proxyActivities<Activities>(activityPresets.mail);
/**
 * Recording a transition is a short, idempotent database write (stale versions are ignored, mails
 * keyed by Message-ID): run inside the workflow task, it costs no Temporal round trip and one
 * marker instead of an activity's three events and a second workflow task (docs/performance.md).
 */
const local = proxyLocalActivities<Activities>(activityPresets.database);
/** The same, with a line for the Temporal UI's event list ("record block → blocked; mail → Morgenpost"). */
const localWithSummary = (summary: string) => proxyLocalActivities<Activities>({ ...activityPresets.database, summary });

export async function connectionWorkflow(input: ConnectionWorkflowInput): Promise<ConnectionView> {
  const problem = inputProblem(input);
  if (problem) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: problem });
  let entity: ConnectionEntity | undefined;
  let recordedVersion = 0;
  const answered = new AnsweredUpdates<ConnectionView>(input.resume?.answeredUpdates as Array<[string, ConnectionView]> | undefined);
  let sending = false;
  // Versions of this workflow, newest first (test/histories replays each). Runs from before
  // `lean-lifecycle` recorded with an activity, re-read the module facts with another and wrote
  // memo and search attributes again that the start had set; runs from before `mail-outbox` also
  // sent each mail with an activity of its own. A patch costs a marker and a search-attribute
  // write in every run, so a lean run does not ask for the older one: it implies it.
  const lean = patched('lean-lifecycle');
  const mailsWithRecord = lean || patched('mail-outbox');
  const recorder = lean ? local : store;
  const { workflowId } = workflowInfo();
  // What the start already set (the API sets all of it): written again only when it changes.
  const shown = new Map<string, unknown>(Object.values(searchAttributes).map((key) => [key.name, workflowInfo().typedSearchAttributes.get(key)]));
  // A continued run has all it needs in its input: it is set up before any handler exists, because
  // registering a handler at once dispatches the updates delivered with the run's first task — a
  // command arriving just after continue-as-new must find the connection ready, not "being set up".
  if (input.resume && input.facts && input.ruleSet) {
    entity = ConnectionEntity.resume(input, input.facts, input.resume, workflowId, pinned(input.ruleSet));
    recordedVersion = entity.currentVersion;
  }

  // Handlers, registered before the first await (an update delivered with the start would
  // otherwise be rejected as unknown). Validators are synchronous and read only workflow state, so
  // a refusal never enters history; handlers transition before their first await, so of two
  // racing commands only one passes, and answer once the read model shows the transition.
  for (const name of commandNames(connectionCommands)) {
    // Every command's args extend CommandArgs; its own fields are checked by commandEvent.
    const update: UpdateDefinition<ConnectionView, [CommandArgs]> = connectionUpdates[name];
    setHandler(update, (args) => runCommand(name, args), { validator: (args) => validateCommand(name, args) });
  }
  setHandler(upgradeRulesUpdate, ({ ruleSet }) => upgradeRules(ruleSet), { validator: ({ ruleSet }) => validateUpgrade(ruleSet) });
  // A purchase's question, answered from state alone: nothing changes, nothing is recorded.
  setHandler(
    authorizeSaleUpdate,
    (args) => {
      const connection = connectionRuleFacts(entity!.view());
      return args.ruleSet === 'version'
        ? { connectionId: input.connectionId, ruleSetVersion: entity!.ruleSet.hash, connection }
        : { connectionId: input.connectionId, ruleSet: entity!.ruleSet, connection };
    },
    { validator: (args) => validateSale(args) },
  );
  // The API's invitation, started with the run (update-with-start). A pair's run that belongs to
  // another connection refuses it in the validator: nothing enters this run's history.
  setHandler(
    invitationUpdate,
    async () => {
      await condition(() => entity !== undefined && recordedVersion >= 1);
      return entity!.view();
    },
    {
      validator: ({ connectionId }) => {
        if (connectionId !== input.connectionId) {
          throw refusalFailure({ code: ErrorCode.CONNECTION_EXISTS, message: 'the pair has another connection' });
        }
      },
    },
  );
  setHandler(stateQuery, () => ready().snapshotForQuery());
  setHandler(viewQuery, () => ready().view());
  setHandler(modulesChangedSignal, async (signal) => {
    await condition(() => entity !== undefined);
    entity!.applyModules(signal);
  });

  // Facts and rules come with the input (the API passes them) or are loaded once; either way
  // they are in history, so replays see the same ones. (A continued run was set up above.)
  const parties = { sourceClientId: input.sourceClientId, targetClientId: input.targetClientId };
  if (!entity) {
    const facts = input.facts ?? (await store.loadConnectionFacts(parties));
    const rules = pinned(await inputRuleSet(input, () => store.loadActiveRuleSet()));
    if (input.resume) {
      entity = ConnectionEntity.resume(input, facts, input.resume, workflowId, rules);
      recordedVersion = entity.currentVersion;
    } else {
      const started = ConnectionEntity.invite(input, facts, workflowId, new Date(), rules);
      entity = started.entity;
      // Also for callers going to Temporal directly: the UI shows which connection and rules this is.
      const memo = workflowInfo().memo ?? {};
      if (!lean || memo.connectionId !== input.connectionId || memo.ruleSetVersion !== rules.ruleSet.hash) {
        upsertMemo({ connectionId: input.connectionId, ruleSetVersion: rules.ruleSet.hash, ruleSetName: rules.ruleSet.name });
      }
      // A module switched between the caller's facts and our first row missed its fan-out (which
      // lists rows): read the facts once more — in the first record's transaction, under the lock
      // module switches take (db/client.repository.ts) — or, in runs from before, right after it.
      const fresh = await record(started.first, { readFacts: lean && input.facts !== undefined });
      if (input.facts && !entity.isFinal) entity.refreshFacts(fresh ?? (await store.loadConnectionFacts(parties)));
    }
  }

  if (mailsWithRecord) {
    // Mails a run before the outbox carried over through continue-as-new (none in practice: such
    // runs sent their mails before continuing).
    for (const mail of entity.outbox.splice(0)) {
      const system = systemMail(entity, mail);
      if (system) await mailer.sendSystemMail(system);
    }
  } else {
    void deliverMails(); // beside the lifecycle, until the run ends
  }
  setCurrentDetails(currentDetails(entity, 0));
  for (;;) {
    const expiresAt = entity.expiresAt;
    const wake = () => entity!.isFinal || shouldContinueAsNew(input) || entity!.expiresAt !== expiresAt;
    const woke =
      expiresAt === null
        ? (await condition(wake), true)
        : await condition(wake, Math.max(1, Date.parse(expiresAt) - Date.now()), { summary: `invitation expires ${expiresAt.slice(0, 10)}` });
    if (!woke && entity.status === 'invited') {
      const expired = entity.apply({ type: 'expire' }, new Date());
      if (expired) await record(expired);
      continue;
    }
    if (!entity.isFinal && !shouldContinueAsNew(input)) continue;
    // Quiesce: every accepted command recorded with its mails (runs before the outbox: every mail
    // handed over). Nothing awaits between this condition and the end of the run, so no command
    // can slip in and be lost.
    await condition(() => allHandlersFinished() && entity!.outbox.length === 0 && !sending);
    if (entity.isFinal) return entity.view();
    return continueAsNew<typeof connectionWorkflow>({
      ...input,
      facts: entity.currentFacts,
      ruleSet: entity.ruleSet,
      ruleSetVersion: undefined, // the continued run carries its rule set in full (it may have been upgraded)
      resume: { ...entity.toResume(), answeredUpdates: answered.toCarry() },
    });
  }

  function ready(): ConnectionEntity {
    if (!entity) throw new Error('the connection is still being set up');
    return entity;
  }

  function validateCommand(name: ConnectionCommandName, args: CommandArgs): void {
    if (answered.get(currentUpdateInfo()?.id)) return; // a retry: answered by the handler
    if (!entity) throw notReady();
    const made = commandEvent(connectionCommands, name, args);
    if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: made.message });
    const refusal = entity.refusal(args.connectionId, made.event, new Date());
    if (refusal) throw refusalFailure(refusal);
  }

  async function runCommand(name: ConnectionCommandName, args: CommandArgs): Promise<ConnectionView> {
    const updateId = currentUpdateInfo()?.id;
    const earlier = answered.get(updateId);
    if (earlier) return earlier;
    const made = commandEvent(connectionCommands, name, args);
    if (!made.ok) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: made.message }); // the validator said so already
    const t = entity!.apply(made.event, new Date()); // synchronous: before the first await
    if (t) await record(t);
    const view = t ? t.view : entity!.view();
    answered.remember(updateId, view);
    return view;
  }

  function validateSale(args: AuthorizeSaleArgs): void {
    if (!entity) throw notReady();
    if (typeof args?.connectionId !== 'string' || typeof args.actor !== 'string' || !Array.isArray(args.offerIds)) {
      throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: 'authorizeSale needs connectionId, actor and offerIds' });
    }
    const refusal = entity.saleRefusal(args.connectionId, args.actor);
    if (refusal) throw refusalFailure(refusal);
  }

  /** A finished connection keeps the rules it ended under; an unusable rule set is refused. */
  function validateUpgrade(ruleSet: CompiledRuleSet): void {
    if (!entity) throw notReady();
    const refusal = entity.upgradeRefusal();
    if (refusal) throw refusalFailure(refusal);
    const made = pinRules(ruleSet);
    if (isRefusal(made)) throw refusalFailure(made);
  }

  /** Operator update `upgradeRules`: the only way a running connection changes its rule set. */
  async function upgradeRules(ruleSet: CompiledRuleSet): Promise<ConnectionView> {
    const t = entity!.upgradeRules(pinned(ruleSet), new Date());
    if (!t) return entity!.view();
    upsertMemo({ ruleSetVersion: ruleSet.hash, ruleSetName: ruleSet.name });
    await record(t);
    return t.view;
  }

  /**
   * Writes the read model, the history and the mails the transition owes (stale versions are
   * ignored there), then search attributes. Called synchronously after `apply`, so the outbox
   * holds exactly this transition's mails.
   */
  async function record(t: ConnectionTransition, options: { readFacts?: boolean } = {}): Promise<ConnectionFacts | null> {
    const mails = mailsWithRecord ? entity!.outbox.splice(0).flatMap((m) => systemMail(entity!, m) ?? []) : [];
    const steps = lean ? localWithSummary(recordSummary(t, mails)) : recorder;
    const fresh = await steps.recordConnectionTransition({ ...t, ...(mails.length > 0 ? { mails } : {}), ...(options.readFacts ? { readFacts: true } : {}) });
    // Not in history (answered by the worker): what an operator reads first on the run's page.
    setCurrentDetails(currentDetails(entity!, mails.length));
    recordedVersion = Math.max(recordedVersion, t.view.version);
    const attributes = [
      { key: searchAttributes.ConnectionStatus, value: entity!.status },
      { key: searchAttributes.OfferAccess, value: entity!.view().offerAccess },
      { key: searchAttributes.SourceClientId, value: input.sourceClientId },
      { key: searchAttributes.TargetClientId, value: input.targetClientId },
      { key: searchAttributes.RuleSetVersion, value: entity!.ruleSet.hash },
    ];
    const changed = lean ? attributes.filter(({ key, value }) => shown.get(key.name) !== value) : attributes;
    if (changed.length > 0) upsertSearchAttributes(changed);
    for (const { key, value } of changed) shown.set(key.name, value);
    return fresh ?? null;
  }

  /**
   * Runs before the outbox only. Oldest first; a mail leaves the outbox only once handed over, so
   * continue-as-new never drops one.
   */
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

const notReady = () => refusalFailure({ code: ErrorCode.INVALID_TRANSITION, message: 'the connection is still being set up; retry' });
function shouldContinueAsNew(input: ConnectionWorkflowInput): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (input.historyEventLimit !== undefined && info.historyLength >= input.historyEventLimit);
}

/** The mail with its parties' facts as they are now; null when there is nobody to write to. */
function systemMail(entity: ConnectionEntity, mail: PendingMail): SystemMail | null {
  const { source, target } = entity.currentFacts;
  if (!target) return null; // a rejected invitation to an unknown client sends nothing
  const [recipient, other] = mail.to === 'source' ? [source, target] : [target, source];
  return {
    connectionId: entity.view().id,
    transition: mail.transition,
    template: mail.template,
    recipient,
    other,
    offerAccess: mail.offerAccess,
    expiresAt: mail.expiresAt,
  };
}

async function sendMail(entity: ConnectionEntity, mail: PendingMail): Promise<void> {
  const system = systemMail(entity, mail);
  if (system) await mailer.sendSystemMail(system);
}
