/**
 * The connection lifecycle of domain.md as a pure XState machine. It decides *what* happens; the
 * workflow runs it with `initialTransition`/`transition` and carries out the named effects
 * (`sendMail`). No timers, no invoke: the invitation expiry is a deadline in context that the
 * workflow arms, and module facts arrive as `modulesChanged` events.
 */
import { assign, setup } from 'xstate';
import type { ClientId } from '../workflows/messages.ts';

export type Party = 'source' | 'target';
/** Every system mail of the connection lifecycle (templates in activities/mail-templates.ts). */
export const MAIL_TEMPLATES = [
  'invitation', 'accepted', 'declined', 'withdrawn', 'expired', 'offerAccessChanged', 'blocked', 'unblocked', 'ended',
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

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

export type CommandEvent =
  | { type: 'accept'; actor: ClientId }
  | { type: 'decline'; actor: ClientId }
  | { type: 'withdraw'; actor: ClientId }
  | { type: 'setOfferAccess'; actor: ClientId; offerAccess: boolean }
  | { type: 'block'; actor: ClientId }
  | { type: 'unblock'; actor: ClientId }
  | { type: 'end'; actor: ClientId };
export type ConnectionEvent = CommandEvent | { type: 'expire' } | { type: 'modulesChanged'; active: boolean };

export interface SendMailParams {
  template: MailTemplate;
  /** `otherParty`: whichever party did not send the command. */
  to: Party | 'otherParty';
}

const actorOf = (event: ConnectionEvent): ClientId | undefined => ('actor' in event ? event.actor : undefined);

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actions: {
    // An effect for the workflow: the machine only names it.
    sendMail: (_, _params: SendMailParams) => {},
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
        { target: 'invited', actions: { type: 'sendMail', params: { template: 'invitation', to: 'target' } } },
      ],
    },
    invited: {
      on: {
        accept: {
          guard: 'isTargetWithModules',
          target: 'active',
          actions: { type: 'sendMail', params: { template: 'accepted', to: 'source' } },
        },
        decline: {
          guard: 'isTarget',
          target: 'declined',
          actions: { type: 'sendMail', params: { template: 'declined', to: 'source' } },
        },
        withdraw: {
          guard: 'isSource',
          target: 'withdrawn',
          actions: { type: 'sendMail', params: { template: 'withdrawn', to: 'target' } },
        },
        expire: { target: 'expired', actions: { type: 'sendMail', params: { template: 'expired', to: 'source' } } },
        setOfferAccess: {
          guard: 'isSource',
          actions: ['applyOfferAccess', { type: 'sendMail', params: { template: 'offerAccessChanged', to: 'target' } }],
        },
      },
    },
    active: {
      on: {
        setOfferAccess: {
          guard: 'isSource',
          actions: ['applyOfferAccess', { type: 'sendMail', params: { template: 'offerAccessChanged', to: 'target' } }],
        },
        block: {
          guard: 'isParty',
          target: 'blocked',
          actions: [
            'recordBlocker',
            { type: 'sendMail', params: { template: 'blocked', to: 'otherParty' } },
          ],
        },
        end: {
          guard: 'isParty',
          target: 'ended',
          actions: { type: 'sendMail', params: { template: 'ended', to: 'otherParty' } },
        },
      },
    },
    blocked: {
      on: {
        unblock: {
          guard: 'isBlocker',
          target: 'active',
          actions: [
            'clearBlocker',
            { type: 'sendMail', params: { template: 'unblocked', to: 'otherParty' } },
          ],
        },
        end: {
          guard: 'isParty',
          target: 'ended',
          actions: { type: 'sendMail', params: { template: 'ended', to: 'otherParty' } },
        },
      },
    },
    declined: { type: 'final' },
    withdrawn: { type: 'final' },
    expired: { type: 'final' },
    ended: { type: 'final' },
    rejected: { type: 'final' },
  },
});
