import { describe, expect, test } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { connectionMachine, type CommandEvent, type ConnectionEvent } from '../../machines/connection.machine.ts';
import { explainRefusal, owesMail, type ConnectionSnapshot } from '../../machines/connection.refusal.ts';

const SOURCE = 'SOURCE00000000000001';
const TARGET = 'TARGET00000000000002';
const STRANGER = 'STRANGER000000000003';

const input = {
  connectionId: '0190c0de-0000-7000-8000-000000000001',
  sourceClientId: SOURCE,
  targetClientId: TARGET,
  offerAccess: true,
  expiresAt: '2026-12-27T00:00:00.000Z',
  modulesActive: true,
  rejection: null,
};

function invited(overrides: Partial<typeof input> = {}): ConnectionSnapshot {
  return initialTransition(connectionMachine, { ...input, ...overrides })[0];
}
function after(...events: ConnectionEvent[]): ConnectionSnapshot {
  return events.reduce((s, e) => transition(connectionMachine, s, e)[0], invited());
}
const active = () => after({ type: 'accept', actor: TARGET });
const blockedByTarget = () => after({ type: 'accept', actor: TARGET }, { type: 'block', actor: TARGET });

describe('the lifecycle table', () => {
  test('an invitation starts invited and owes a mail', () => {
    const [snapshot, actions] = initialTransition(connectionMachine, input);
    expect(snapshot.value).toBe('invited');
    expect(owesMail(actions)).toBe(true);
  });

  test('an invitation the workflow refused ends rejected without a mail', () => {
    const [snapshot, actions] = initialTransition(connectionMachine, {
      ...input,
      rejection: { code: 'CONTRACT_MODULE_INACTIVE', message: 'off' },
    });
    expect(snapshot.value).toBe('rejected');
    expect(snapshot.status).toBe('done');
    expect(owesMail(actions)).toBe(false);
  });

  const rows: Array<[string, () => ConnectionSnapshot, CommandEvent | { type: 'expire' }, string, boolean]> = [
    ['target accepts an invitation', invited, { type: 'accept', actor: TARGET }, 'active', true],
    ['target declines an invitation', invited, { type: 'decline', actor: TARGET }, 'declined', true],
    ['source withdraws an invitation', invited, { type: 'withdraw', actor: SOURCE }, 'withdrawn', true],
    ['an invitation expires', invited, { type: 'expire' }, 'expired', true],
    ['source sets offer access while invited', invited, { type: 'setOfferAccess', actor: SOURCE, offerAccess: false }, 'invited', true],
    ['source sets offer access while active', active, { type: 'setOfferAccess', actor: SOURCE, offerAccess: false }, 'active', true],
    ['source blocks an active connection', active, { type: 'block', actor: SOURCE }, 'blocked', true],
    ['target blocks an active connection', active, { type: 'block', actor: TARGET }, 'blocked', true],
    ['the blocking party unblocks', blockedByTarget, { type: 'unblock', actor: TARGET }, 'active', true],
    ['source ends an active connection', active, { type: 'end', actor: SOURCE }, 'ended', true],
    ['target ends an active connection', active, { type: 'end', actor: TARGET }, 'ended', true],
    ['source ends a blocked connection', blockedByTarget, { type: 'end', actor: SOURCE }, 'ended', true],
    ['target ends a blocked connection', blockedByTarget, { type: 'end', actor: TARGET }, 'ended', true],
  ];
  test.each(rows)('%s', (_name, from, event, to, mail) => {
    const [next, actions] = transition(connectionMachine, from(), event);
    expect(next.value).toBe(to);
    expect(owesMail(actions)).toBe(mail); // which mail, to whom: the rule set (test/rules/default-rules.test.ts)
  });

  test('blocking records who blocked; unblocking clears it', () => {
    const blocked = blockedByTarget();
    expect(blocked.context.blockedBy).toBe(TARGET);
    expect(transition(connectionMachine, blocked, { type: 'unblock', actor: TARGET })[0].context.blockedBy).toBeNull();
  });

  test('offer access follows the command', () => {
    const next = transition(connectionMachine, active(), { type: 'setOfferAccess', actor: SOURCE, offerAccess: false })[0];
    expect(next.context.offerAccess).toBe(false);
  });

  test.each(['declined', 'withdrawn', 'expired', 'ended'])('%s is final', (state) => {
    const events: Record<string, ConnectionEvent[]> = {
      declined: [{ type: 'decline', actor: TARGET }],
      withdrawn: [{ type: 'withdraw', actor: SOURCE }],
      expired: [{ type: 'expire' }],
      ended: [{ type: 'accept', actor: TARGET }, { type: 'end', actor: SOURCE }],
    };
    const snapshot = after(...events[state]!);
    expect(snapshot.value).toBe(state);
    expect(snapshot.status).toBe('done');
  });

  test('a module switched off keeps the status but is remembered', () => {
    const next = transition(connectionMachine, active(), { type: 'modulesChanged', active: false })[0];
    expect(next.value).toBe('active');
    expect(next.context.modulesActive).toBe(false);
  });
});

describe('refusals', () => {
  const cases: Array<[string, () => ConnectionSnapshot, CommandEvent, string]> = [
    ['source cannot accept its own invitation', invited, { type: 'accept', actor: SOURCE }, 'FORBIDDEN_ACTOR'],
    ['source cannot decline its own invitation', invited, { type: 'decline', actor: SOURCE }, 'FORBIDDEN_ACTOR'],
    ['target cannot withdraw an invitation', invited, { type: 'withdraw', actor: TARGET }, 'FORBIDDEN_ACTOR'],
    ['target cannot set offer access', active, { type: 'setOfferAccess', actor: TARGET, offerAccess: false }, 'FORBIDDEN_ACTOR'],
    ['the other party cannot unblock', blockedByTarget, { type: 'unblock', actor: SOURCE }, 'FORBIDDEN_ACTOR'],
    ['nobody blocks while invited', invited, { type: 'block', actor: TARGET }, 'INVALID_TRANSITION'],
    ['nobody ends while invited', invited, { type: 'end', actor: SOURCE }, 'INVALID_TRANSITION'],
    ['nobody accepts twice', active, { type: 'accept', actor: TARGET }, 'INVALID_TRANSITION'],
    ['nobody blocks twice', blockedByTarget, { type: 'block', actor: SOURCE }, 'INVALID_TRANSITION'],
    ['nobody unblocks an active connection', active, { type: 'unblock', actor: TARGET }, 'INVALID_TRANSITION'],
    ['offer access is fixed while blocked', blockedByTarget, { type: 'setOfferAccess', actor: SOURCE, offerAccess: false }, 'INVALID_TRANSITION'],
    ['nothing happens after the end', () => after({ type: 'accept', actor: TARGET }, { type: 'end', actor: TARGET }), { type: 'block', actor: TARGET }, 'INVALID_TRANSITION'],
    ['a stranger is told the connection does not exist', invited, { type: 'accept', actor: STRANGER }, 'NOT_FOUND'],
    ['accept is refused while the module is off', () => invited({ modulesActive: false }), { type: 'accept', actor: TARGET }, 'CONTRACT_MODULE_INACTIVE'],
    ['the source accepting stays a wrong actor while the module is off', () => invited({ modulesActive: false }), { type: 'accept', actor: SOURCE }, 'FORBIDDEN_ACTOR'],
    ['accepting twice stays a forbidden transition while the module is off', () => transition(connectionMachine, active(), { type: 'modulesChanged', active: false })[0], { type: 'accept', actor: TARGET }, 'INVALID_TRANSITION'],
  ];
  test.each(cases)('%s', (_name, from, event, code) => {
    const snapshot = from();
    expect(explainRefusal(snapshot, event)?.code).toBe(code);
    const [next, actions] = transition(connectionMachine, snapshot, event);
    expect(next.value).toBe(snapshot.value);
    expect(actions).toEqual([]);
  });

  test('an allowed command has no refusal', () => {
    expect(explainRefusal(invited(), { type: 'accept', actor: TARGET })).toBeNull();
  });

  test('declining while the module is off is still allowed', () => {
    expect(explainRefusal(invited({ modulesActive: false }), { type: 'decline', actor: TARGET })).toBeNull();
  });
});

describe('offer access set to the value it has', () => {
  test('is allowed for the source and changes nothing', () => {
    const snapshot = invited();
    const event: CommandEvent = { type: 'setOfferAccess', actor: SOURCE, offerAccess: true };
    expect(explainRefusal(snapshot, event)).toBeNull();
    const [next, actions] = transition(connectionMachine, snapshot, event);
    expect(next.value).toBe('invited');
    expect(next.context).toEqual(snapshot.context);
    expect(owesMail(actions)).toBe(false);
  });

  test('is still refused for the target', () => {
    expect(explainRefusal(active(), { type: 'setOfferAccess', actor: TARGET, offerAccess: true })).toMatchObject({ code: 'FORBIDDEN_ACTOR' });
  });
});
