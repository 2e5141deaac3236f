/**
 * The state a connection workflow keeps, and the synchronous steps on it. Everything here is
 * deterministic and free of awaits, so validators can call `refusal` and handlers can `apply` a
 * command before their first await (docs/architecture.md "Handlers": of two racing commands only
 * one passes).
 */
import { initialTransition, transition } from 'xstate';
import type {
  ConnectionFacts,
  ConnectionStatus,
  ConnectionTransition,
  ConnectionView,
  Party,
  PartyFacts,
} from '../domain/connection.ts';
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import type { MailTemplate } from '../domain/mail.ts';
import { hasFlag } from '../machines/commands.ts';
import { connectionCommands } from '../machines/connection.commands.ts';
import { connectionMachine, type CommandEvent, type ConnectionEvent } from '../machines/connection.machine.ts';
import { explainRefusal, owesMail, type ConnectionSnapshot } from '../machines/connection.refusal.ts';
import { commandFacts } from '../rules/connection-facts.ts';
import { checkInvitation } from '../rules/invitation.policy.ts';
import { notificationEventOf, type CompiledRuleSet } from '../rules/model.ts';
import type { PinnedRules } from './pinned-rules.ts';
import type { ConnectionResume, ConnectionWorkflowInput, ModulesChangedSignal } from './messages.ts';

/** A mail owed by a transition, with the facts it reports as they were at that transition. */
export interface PendingMail {
  transition: number;
  template: MailTemplate;
  to: Party;
  offerAccess: boolean;
  expiresAt: string | null;
}

export class ConnectionEntity {
  readonly outbox: PendingMail[];
  private snapshot: ConnectionSnapshot;
  private version: number;
  private readonly createdAt: string;
  private updatedAt: string;

  private constructor(
    private readonly input: ConnectionWorkflowInput,
    private facts: ConnectionFacts,
    resume: ConnectionResume,
    private readonly workflowId: string,
    private rules: PinnedRules,
  ) {
    this.snapshot = connectionMachine.resolveState({ value: resume.value, context: resume.context as never });
    this.version = resume.version;
    this.createdAt = resume.createdAt;
    this.updatedAt = resume.updatedAt;
    this.outbox = resume.pendingMails as PendingMail[];
  }

  /** A new connection: screen the invitation and take the first transition (version 1). */
  static invite(
    input: ConnectionWorkflowInput,
    facts: ConnectionFacts,
    workflowId: string,
    now: Date,
    rules: PinnedRules,
  ): { entity: ConnectionEntity; first: ConnectionTransition } {
    const rejection = checkInvitation(
      { connectionId: input.connectionId, ...facts, offerAccess: input.offerAccess, hasCallback: Boolean(input.callbackUrl) },
      rules.evaluator,
    );
    const ttlMs = input.invitationTtlMs ?? rules.evaluator.invitationTtlMs();
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    const [snapshot, actions] = initialTransition(connectionMachine, {
      connectionId: input.connectionId,
      sourceClientId: input.sourceClientId,
      targetClientId: input.targetClientId,
      offerAccess: input.offerAccess,
      expiresAt: rejection ? null : expiresAt,
      modulesActive: modulesActive(facts),
      rejection: rejection && { code: rejection.code, message: rejection.message },
    });
    const at = now.toISOString();
    const entity = new ConnectionEntity(
      input,
      facts,
      { value: String(snapshot.value), context: snapshot.context, version: 1, createdAt: at, updatedAt: at, pendingMails: [] },
      workflowId,
      rules,
    );
    entity.queueMail('invite', owesMail(actions), input.sourceClientId, 1);
    return { entity, first: { view: entity.view(), history: { event: 'invite', actor: input.sourceClientId, from: null, to: entity.status, at } } };
  }

  static resume(input: ConnectionWorkflowInput, facts: ConnectionFacts, resume: ConnectionResume, workflowId: string, rules: PinnedRules): ConnectionEntity {
    return new ConnectionEntity(input, facts, resume, workflowId, rules);
  }

  get status(): ConnectionStatus {
    return String(this.snapshot.value) as ConnectionStatus;
  }
  get isFinal(): boolean {
    return this.snapshot.status === 'done';
  }
  get expiresAt(): string | null {
    return this.status === 'invited' ? this.snapshot.context.expiresAt : null;
  }
  get currentVersion(): number {
    return this.version;
  }
  get currentFacts(): ConnectionFacts {
    return this.facts;
  }
  get ruleSet(): CompiledRuleSet {
    return this.rules.ruleSet;
  }

  /** Why a command would be refused at `now`, or null. Pure: safe in an update validator. */
  refusal(connectionId: string, event: CommandEvent, now: Date): Refusal | null {
    if (connectionId !== this.input.connectionId) {
      return { code: ErrorCode.INVALID_TRANSITION, message: `connection ${connectionId} is no longer open` };
    }
    const refusal = explainRefusal(this.snapshot, event);
    if (refusal) return refusal;
    // The expiry timer may fire a moment late; the deadline itself is exact.
    const expiresAt = this.expiresAt;
    if (expiresAt !== null && now.getTime() >= Date.parse(expiresAt)) {
      return { code: ErrorCode.INVALID_TRANSITION, message: `the invitation expired at ${expiresAt}` };
    }
    // Policy after the fixed semantics: the rule set's guards, for a command declared `guarded`.
    const name = event.type;
    if (!hasFlag(connectionCommands, 'guarded', name) || !this.facts.target) return null;
    const verdict = this.rules.evaluator.checkGuards(
      `connection.${name}`,
      commandFacts(this.view(), { source: this.facts.source, target: this.facts.target }, event.actor),
    );
    return verdict.allowed ? null : { code: verdict.code, message: verdict.message, details: { rule: verdict.rule } };
  }

  /**
   * Why a sale of this connection's offers by `actor` would be refused now (update
   * `authorizeSale`), or null. Pure: safe in an update validator.
   */
  saleRefusal(connectionId: string, actor: string): Refusal | null {
    const unavailable = (why: string): Refusal => ({ code: ErrorCode.ITEM_UNAVAILABLE, message: `offers of this source cannot be sold: ${why}` });
    if (connectionId !== this.input.connectionId) return unavailable(`connection ${connectionId} is no longer open`);
    const c = this.snapshot.context;
    if (actor !== c.targetClientId) return { code: ErrorCode.NOT_FOUND, message: 'connection not found' };
    if (this.status !== 'active') return unavailable(`the connection is ${this.status}`);
    if (!c.offerAccess) return unavailable('offer access is off');
    if (!modulesActive(this.facts)) return unavailable('the contract module is not active');
    return null;
  }

  /** Why `upgradeRules` would be refused: a finished connection keeps the rules it ended under. */
  upgradeRefusal(): Refusal | null {
    return this.isFinal ? { code: ErrorCode.INVALID_TRANSITION, message: `cannot upgrade the rules of a connection that is ${this.status}` } : null;
  }

  /** Pins another rule set (operator update `upgradeRules`); null when it is already pinned. */
  upgradeRules(rules: PinnedRules, now: Date): ConnectionTransition | null {
    if (rules.ruleSet.hash === this.rules.ruleSet.hash) return null;
    const from = this.status;
    this.rules = rules;
    this.version += 1;
    this.updatedAt = now.toISOString();
    return { view: this.view(), history: { event: 'upgradeRules', actor: null, from, to: from, at: this.updatedAt } };
  }

  /**
   * Applies a command (or the expiry); null when it changes nothing: no new state, no new fact, no
   * mail owed (offer access set to the value it has). Such a step is no transition: no version.
   */
  apply(event: CommandEvent | { type: 'expire' }, now: Date): ConnectionTransition | null {
    const from = this.status;
    const [next, actions] = transition(connectionMachine, this.snapshot, event);
    const mails = owesMail(actions);
    if (next.value === this.snapshot.value && sameContext(next.context, this.snapshot.context) && !mails) return null;
    this.snapshot = next;
    this.version += 1;
    this.updatedAt = now.toISOString();
    const actor = 'actor' in event ? event.actor : null;
    this.queueMail(event.type, mails, actor, this.version);
    return { view: this.view(), history: { event: event.type, actor, from, to: this.status, at: this.updatedAt } };
  }

  /** Facts loaded again (after the first record): module switches we may have missed. */
  refreshFacts(fresh: ConnectionFacts): void {
    for (const party of [fresh.source, fresh.target]) {
      if (party) this.applyModules({ contractingCompanyId: party.contractingCompanyId, active: party.moduleActive, revision: party.moduleRevision ?? 0 });
    }
  }

  /**
   * Module facts changed for one contracting company (a signal, or facts reloaded): keep them
   * unless we already know a newer revision, and tell the machine.
   */
  applyModules(signal: ModulesChangedSignal): void {
    const update = (party: PartyFacts | null): PartyFacts | null => {
      if (!party || party.contractingCompanyId !== signal.contractingCompanyId) return party;
      if (signal.revision !== undefined && (party.moduleRevision ?? 0) > signal.revision) return party;
      return { ...party, moduleActive: signal.active, moduleRevision: signal.revision ?? party.moduleRevision };
    };
    this.facts = { source: update(this.facts.source)!, target: update(this.facts.target) };
    const event: ConnectionEvent = { type: 'modulesChanged', active: modulesActive(this.facts) };
    this.snapshot = transition(connectionMachine, this.snapshot, event)[0];
  }

  view(): ConnectionView {
    const c = this.snapshot.context;
    return {
      id: this.input.connectionId,
      workflowId: this.workflowId,
      sourceClientId: c.sourceClientId,
      targetClientId: c.targetClientId,
      status: this.status,
      offerAccess: c.offerAccess,
      blockedBy: c.blockedBy,
      expiresAt: this.expiresAt,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      version: this.version,
      ruleSetVersion: this.rules.ruleSet.hash,
      ...(this.input.callbackUrl ? { callback: { url: this.input.callbackUrl } } : {}),
      rejection: c.rejection,
    };
  }

  snapshotForQuery() {
    return { value: this.status, context: { ...this.snapshot.context }, version: this.version, ruleSetVersion: this.rules.ruleSet.hash };
  }

  toResume(): ConnectionResume {
    return {
      value: this.status,
      context: this.snapshot.context,
      version: this.version,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      pendingMails: [...this.outbox],
    };
  }

  /**
   * The machine says whether a mail is due; the pinned rule set's `notifications` say whether it
   * goes out, with which template and to whom (`otherParty`: whoever did not act).
   */
  private queueMail(event: string, due: boolean, actor: string | null, transitionNumber: number): void {
    const notificationEvent = due ? notificationEventOf(event) : null;
    const n = notificationEvent && this.rules.evaluator.notification(notificationEvent);
    if (!n?.enabled) return;
    const c = this.snapshot.context;
    const to: Party = n.recipient !== 'otherParty' ? n.recipient : actor === c.sourceClientId ? 'target' : 'source';
    this.outbox.push({ transition: transitionNumber, template: n.template, to, offerAccess: c.offerAccess, expiresAt: c.expiresAt });
  }
}

export function modulesActive(facts: ConnectionFacts): boolean {
  if (!facts.source.moduleActive) return false;
  if (!facts.target || facts.target.contractingCompanyId === facts.source.contractingCompanyId) return true;
  return facts.target.moduleActive;
}

const sameContext = (a: object, b: object): boolean => {
  const keys = Object.keys(a) as Array<keyof typeof a>;
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};
