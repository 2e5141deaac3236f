/**
 * Why the machine refuses a command, as a stable error code — derived from the machine itself
 * (`snapshot.can`), so the machine stays the only truth. Used by the update
 * validators, which must be synchronous and pure.
 */
import type { SnapshotFrom } from 'xstate';
import type { Party } from '../domain/connection.ts';
import { ErrorCode, type Refusal } from '../domain/errors.ts';
import { NOTIFY } from './commands.ts';
import { connectionMachine, type CommandEvent } from './connection.machine.ts';

export type ConnectionSnapshot = SnapshotFrom<typeof connectionMachine>;

export function explainRefusal(snapshot: ConnectionSnapshot, event: CommandEvent): Refusal | null {
  const { sourceClientId, targetClientId, modulesActive } = snapshot.context;
  if (event.actor !== sourceClientId && event.actor !== targetClientId) {
    return { code: ErrorCode.NOT_FOUND, message: 'connection not found' };
  }
  if (snapshot.can(event)) return null;
  const state = String(snapshot.value);
  // Who may do what is judged as if the modules were on: a wrong actor stays 403 and a forbidden
  // transition 409 whatever the modules; only what the modules alone block is 422.
  const withModules = modulesActive
    ? snapshot
    : connectionMachine.resolveState({ value: snapshot.value, context: { ...snapshot.context, modulesActive: true } });
  if (withModules.can(event)) {
    return {
      code: ErrorCode.CONTRACT_MODULE_INACTIVE,
      message: 'the contract module CROSS_CLIENT_CONNECTIONS is not active for every contracting company involved',
    };
  }
  const someoneMay = [sourceClientId, targetClientId].some((actor) => withModules.can({ ...event, actor }));
  if (someoneMay) {
    return { code: ErrorCode.FORBIDDEN_ACTOR, message: `${roleOf(snapshot, event.actor)} may not ${event.type} this connection` };
  }
  return { code: ErrorCode.INVALID_TRANSITION, message: `cannot ${event.type} a connection that is ${state}` };
}

function roleOf(snapshot: ConnectionSnapshot, clientId: string): Party {
  return clientId === snapshot.context.sourceClientId ? 'source' : 'target';
}

/** Whether a transition's actions owe a system mail (the rule set routes it). */
export function owesMail(actions: ReadonlyArray<{ type: string }>): boolean {
  return actions.some((a) => a.type === NOTIFY);
}
