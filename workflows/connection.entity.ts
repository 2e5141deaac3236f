/**
 * The state a connection workflow keeps, and the synchronous steps on it. Everything here is
 * deterministic and free of awaits, so validators can call `refusal` and handlers can `apply` a
 * command before their first await (design.md decision 3: of two racing commands only one passes).
 */
import { initialTransition, transition } from 'xstate';
import { connectionMachine, type CommandEvent, type ConnectionEvent, type MailTemplate, type Party } from '../machines/connection.machine.ts';
import { explainRefusal, mailsOf, type ConnectionSnapshot } from '../machines/connection.refusal.ts';
import { checkInvitation } from '../rules/invitation.policy.ts';
import { ErrorCode, type Refusal } from './errors.ts';
import type { ConnectionFacts, ConnectionResume, ConnectionStatus, ConnectionView, ConnectionWorkflowInput, ModulesChangedSignal } from './messages.ts';

export const DEFAULT_INVITATION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface PendingMail {
  transition: number;
  template: MailTemplate;
  to: Party;
}

export interface HistoryEntry {
  event: string;
  actor: string | null;
  from: string | null;
  to: string;
  at: string;
}

export interface Transition {
  view: ConnectionView;
  history: HistoryEntry;
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
  ) {
    this.snapshot = connectionMachine.resolveState({ value: resume.value, context: resume.context as never });
    this.version = resume.version;
    this.createdAt = resume.createdAt;
    this.updatedAt = resume.updatedAt;
    this.outbox = resume.pendingMails as PendingMail[];
  }

  /** A new connection: screen the invitation and take the first transition (version 1). */
  static invite(input: ConnectionWorkflowInput, facts: ConnectionFacts, workflowId: string, now: Date): { entity: ConnectionEntity; first: Transition } {
    const rejection = checkInvitation({ ...facts, hasCallback: Boolean(input.callbackUrl) });
    const expiresAt = new Date(now.getTime() + (input.invitationTtlMs ?? DEFAULT_INVITATION_TTL_MS)).toISOString();
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
    );
    entity.queueMails(mailsOf(actions, snapshot, input.sourceClientId), 1);
    return { entity, first: { view: entity.view(), history: { event: 'invite', actor: input.sourceClientId, from: null, to: entity.status, at } } };
  }

  static resume(input: ConnectionWorkflowInput, facts: ConnectionFacts, resume: ConnectionResume, workflowId: string): ConnectionEntity {
    return new ConnectionEntity(input, facts, resume, workflowId);
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

  /** Why a command would be refused right now, or null. Pure: safe in an update validator. */
  refusal(connectionId: string, event: CommandEvent): Refusal | null {
    if (connectionId !== this.input.connectionId) {
      return { code: ErrorCode.INVALID_TRANSITION, message: `connection ${connectionId} is no longer open` };
    }
    return explainRefusal(this.snapshot, event);
  }

  /** Applies a command (or the expiry); null when it changes nothing (offer access set to its value). */
  apply(event: CommandEvent | { type: 'expire' }, now: Date): Transition | null {
    if (event.type === 'setOfferAccess' && event.offerAccess === this.snapshot.context.offerAccess) return null;
    const from = this.status;
    const [next, actions] = transition(connectionMachine, this.snapshot, event);
    if (next === this.snapshot) return null;
    this.snapshot = next;
    this.version += 1;
    this.updatedAt = now.toISOString();
    const actor = 'actor' in event ? event.actor : null;
    this.queueMails(mailsOf(actions, next, actor), this.version);
    return { view: this.view(), history: { event: event.type, actor, from, to: this.status, at: this.updatedAt } };
  }

  /** Module facts changed for one contracting company: keep them, and tell the machine. */
  applyModules(signal: ModulesChangedSignal): void {
    const update = (party: ConnectionFacts['source'] | null) =>
      party && party.contractingCompanyId === signal.contractingCompanyId ? { ...party, moduleActive: signal.active } : party;
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
      ruleSetVersion: null,
      ...(this.input.callbackUrl ? { callback: { url: this.input.callbackUrl } } : {}),
      rejection: c.rejection,
    };
  }

  snapshotForQuery() {
    return { value: this.status, context: { ...this.snapshot.context }, version: this.version, ruleSetVersion: null };
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

  private queueMails(mails: Array<{ template: MailTemplate; to: Party }>, transitionNumber: number): void {
    for (const m of mails) this.outbox.push({ transition: transitionNumber, ...m });
  }
}

export function modulesActive(facts: ConnectionFacts): boolean {
  if (!facts.source.moduleActive) return false;
  if (!facts.target || facts.target.contractingCompanyId === facts.source.contractingCompanyId) return true;
  return facts.target.moduleActive;
}
