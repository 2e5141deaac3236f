/**
 * Why the machine refuses a command, as a stable error code — derived from the machine itself
 * (`snapshot.can`) so the table in connection.machine.ts stays the only truth. Used by the update
 * validators, which must be synchronous and pure.
 */
import type { SnapshotFrom } from 'xstate';
import { ErrorCode, type Refusal } from '../workflows/errors.ts';
import { connectionMachine, type CommandEvent, type MailTemplate, type Party, type SendMailParams } from './connection.machine.ts';

export type ConnectionSnapshot = SnapshotFrom<typeof connectionMachine>;

export function explainRefusal(snapshot: ConnectionSnapshot, event: CommandEvent): Refusal | null {
  const { sourceClientId, targetClientId, modulesActive } = snapshot.context;
  if (event.actor !== sourceClientId && event.actor !== targetClientId) {
    return { code: ErrorCode.NOT_FOUND, message: 'connection not found' };
  }
  if (snapshot.can(event)) return null;
  const state = String(snapshot.value);
  if (event.type === 'accept' && state === 'invited' && !modulesActive && event.actor === targetClientId) {
    return {
      code: ErrorCode.CONTRACT_MODULE_INACTIVE,
      message: 'the contract module CROSS_CLIENT_CONNECTIONS is not active for every contracting company involved',
    };
  }
  const someoneMay = [sourceClientId, targetClientId].some((actor) => snapshot.can({ ...event, actor }));
  if (someoneMay) {
    return { code: ErrorCode.FORBIDDEN_ACTOR, message: `${roleOf(snapshot, event.actor)} may not ${event.type} this connection` };
  }
  return { code: ErrorCode.INVALID_TRANSITION, message: `cannot ${event.type} a connection that is ${state}` };
}

export function roleOf(snapshot: ConnectionSnapshot, clientId: string): Party {
  return clientId === snapshot.context.sourceClientId ? 'source' : 'target';
}

/** The mails a transition asked for, in order, with `otherParty` resolved against the actor. */
export function mailsOf(
  actions: ReadonlyArray<{ type: string; params?: unknown }>,
  snapshot: ConnectionSnapshot,
  actor: string | null,
): Array<{ template: MailTemplate; to: Party }> {
  return actions
    .filter((a) => a.type === 'sendMail')
    .map((a) => {
      const { template, to } = a.params as SendMailParams;
      if (to !== 'otherParty') return { template, to };
      return { template, to: actor === snapshot.context.sourceClientId ? 'target' : 'source' };
    });
}
