/**
 * The commands of a connection, one entry each (machines/commands.ts). Adding a command is an
 * entry here plus its transitions in connection.machine.ts: the update, its handler, the HTTP
 * route, the OpenAPI operation and the rule-set events follow from this table.
 */
import { z } from 'zod';
import { defineCommands } from './commands.ts';

export const connectionCommands = defineCommands({
  accept: { summary: 'Accept an invitation', who: 'target', http: { method: 'POST', path: '/accept' }, guarded: true, mails: true },
  decline: { summary: 'Decline an invitation', who: 'target', http: { method: 'POST', path: '/decline' }, mails: true },
  withdraw: { summary: 'Withdraw an invitation', who: 'source', http: { method: 'POST', path: '/withdraw' }, mails: true },
  setOfferAccess: {
    summary: 'Switch offer access',
    who: 'source',
    http: { method: 'PATCH', path: '' },
    body: z.strictObject({ offerAccess: z.boolean() }),
    mails: true,
  },
  // Never `guarded`: a rule set must not be able to trap a party (block and end always work; issue 9).
  block: { summary: 'Block an active connection', who: 'either party', http: { method: 'POST', path: '/block' }, mails: true },
  unblock: { summary: 'Unblock a blocked connection', who: 'the blocking party', http: { method: 'POST', path: '/unblock' }, mails: true },
  end: { summary: 'End the connection', who: 'either party', http: { method: 'POST', path: '/end' }, mails: true },
});

export type ConnectionCommands = typeof connectionCommands;
export type ConnectionCommandName = keyof ConnectionCommands;

/**
 * Lifecycle events that are not commands: the invitation (the workflow's start) and its expiry
 * (the workflow's timer). Both may owe a mail.
 */
export const CONNECTION_LIFECYCLE_EVENTS = ['invite', 'expire'] as const;
