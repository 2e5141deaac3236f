/**
 * The connection lifecycle as a pure XState machine (docs/architecture.md "Machines"). It decides
 * *what* happens; the workflow runs it with `initialTransition`/`transition` and carries out the
 * effects it names. `notify` says a transition owes a system mail: the pinned rule set's
 * `notifications` decide whether it goes out, with which template and to whom. No timers, no
 * invoke: the invitation expiry is a deadline in context that the workflow arms, and module facts
 * arrive as `modulesChanged` events. Commands and their fields come from connection.commands.ts.
 */
import { assign, setup } from 'xstate';
import type { ClientId } from '../domain/connection.ts';
import { NOTIFY, type CommandEventOf } from './commands.ts';
import type { ConnectionCommands } from './connection.commands.ts';

export interface ConnectionContext {
  connectionId: string;
  sourceClientId: ClientId;
  targetClientId: ClientId;
  offerAccess: boolean;
  blockedBy: ClientId | null;
  /** ISO time the invitation lapses; the workflow arms a timer for it. */
  expiresAt: string | null;
  /** The contract module is active for every contracting company involved. */
  modulesActive: boolean;
  /** Set when the workflow's own invitation check refused (callers going to Temporal directly). */
  rejection: { code: string; message: string } | null;
}

export type ConnectionInput = Omit<ConnectionContext, 'blockedBy'>;

export type CommandEvent = CommandEventOf<ConnectionCommands, ClientId>;
export type ConnectionEvent = CommandEvent | { type: 'expire' } | { type: 'modulesChanged'; active: boolean };

const actorOf = (event: ConnectionEvent): ClientId | undefined => ('actor' in event ? event.actor : undefined);

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actions: {
    // An effect for the workflow: the machine only names it.
    [NOTIFY]: () => {},
    recordBlocker: assign({ blockedBy: ({ event }) => actorOf(event) ?? null }),
    clearBlocker: assign({ blockedBy: null }),
    applyOfferAccess: assign({
      offerAccess: ({ context, event }) => (event.type === 'setOfferAccess' ? event.offerAccess : context.offerAccess),
    }),
    applyModules: assign({
      modulesActive: ({ context, event }) => (event.type === 'modulesChanged' ? event.active : context.modulesActive),
    }),
  },
  guards: {
    isRejected: ({ context }) => context.rejection !== null,
    isSource: ({ context, event }) => actorOf(event) === context.sourceClientId,
    isTarget: ({ context, event }) => actorOf(event) === context.targetClientId,
    isParty: ({ context, event }) =>
      actorOf(event) === context.sourceClientId || actorOf(event) === context.targetClientId,
    isBlocker: ({ context, event }) => context.blockedBy !== null && actorOf(event) === context.blockedBy,
    isTargetWithModules: ({ context, event }) => actorOf(event) === context.targetClientId && context.modulesActive,
    isSourceChangingOfferAccess: ({ context, event }) =>
      event.type === 'setOfferAccess' && event.actor === context.sourceClientId && event.offerAccess !== context.offerAccess,
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ ...input, blockedBy: null }),
  initial: 'screening',
  on: {
    modulesChanged: { actions: 'applyModules' },
  },
  states: {
    screening: {
      always: [
        { guard: 'isRejected', target: 'rejected' },
        { target: 'invited', actions: NOTIFY },
      ],
    },
    invited: {
      on: {
        accept: { guard: 'isTargetWithModules', target: 'active', actions: NOTIFY },
        decline: { guard: 'isTarget', target: 'declined', actions: NOTIFY },
        withdraw: { guard: 'isSource', target: 'withdrawn', actions: NOTIFY },
        expire: { target: 'expired', actions: NOTIFY },
        setOfferAccess: [
          { guard: 'isSourceChangingOfferAccess', actions: ['applyOfferAccess', NOTIFY] },
          // The value it already has: allowed, changes nothing, mails nobody. (A target, even its
          // own state, keeps it allowed: XState treats a transition without target or action as
          // forbidden.)
          { guard: 'isSource', target: 'invited' },
        ],
      },
    },
    active: {
      on: {
        setOfferAccess: [
          { guard: 'isSourceChangingOfferAccess', actions: ['applyOfferAccess', NOTIFY] },
          { guard: 'isSource', target: 'active' },
        ],
        block: { guard: 'isParty', target: 'blocked', actions: ['recordBlocker', NOTIFY] },
        end: { guard: 'isParty', target: 'ended', actions: NOTIFY },
      },
    },
    blocked: {
      on: {
        unblock: { guard: 'isBlocker', target: 'active', actions: ['clearBlocker', NOTIFY] },
        end: { guard: 'isParty', target: 'ended', actions: NOTIFY },
      },
    },
    declined: { type: 'final' },
    withdrawn: { type: 'final' },
    expired: { type: 'final' },
    ended: { type: 'final' },
    rejected: { type: 'final' },
  },
});
