/**
 * The command declaration and the machine say the same thing: who may send each command, and
 * which commands owe a mail. (The routes, updates and rule-set events are derived from the
 * declaration; these tests hold the declaration to the machine.)
 */
import { describe, expect, test } from 'vitest';
import { initialTransition, transition, type AnyStateNode } from 'xstate';
import { commandEvent, commandNames, NOTIFY } from '../../machines/commands.ts';
import { connectionCommands, type ConnectionCommandName } from '../../machines/connection.commands.ts';
import { connectionMachine, type CommandEvent, type ConnectionEvent } from '../../machines/connection.machine.ts';
import type { ConnectionSnapshot } from '../../machines/connection.refusal.ts';

const SOURCE = 'SOURCE00000000000001';
const TARGET = 'TARGET00000000000002';
const start = (): ConnectionSnapshot =>
  initialTransition(connectionMachine, {
    connectionId: 'c', sourceClientId: SOURCE, targetClientId: TARGET, offerAccess: true, expiresAt: null, modulesActive: true, rejection: null,
  })[0];
const after = (...events: ConnectionEvent[]) => events.reduce((s, e) => transition(connectionMachine, s, e)[0], start());

/** Every non-final situation a command can meet, with its blocker where that matters. */
const situations: Record<string, () => ConnectionSnapshot> = {
  invited: start,
  active: () => after({ type: 'accept', actor: TARGET }),
  'blocked by source': () => after({ type: 'accept', actor: TARGET }, { type: 'block', actor: SOURCE }),
  'blocked by target': () => after({ type: 'accept', actor: TARGET }, { type: 'block', actor: TARGET }),
};

const sample = (name: ConnectionCommandName, actor: string): CommandEvent => {
  const made = commandEvent(connectionCommands, name, { actor, offerAccess: false } as { actor: string });
  if (!made.ok) throw new Error(made.message);
  return made.event;
};

/** Who the machine lets send a command, per situation where anyone may. */
function whoMay(name: ConnectionCommandName): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [situation, snapshot] of Object.entries(situations)) {
    const roles = ([['source', SOURCE], ['target', TARGET]] as const).filter(([, id]) => snapshot().can(sample(name, id))).map(([role]) => role);
    if (roles.length > 0) out[situation] = roles.join(' and ');
  }
  return out;
}

const expectedByWho: Record<string, (situations: Record<string, string>) => boolean> = {
  source: (s) => Object.values(s).every((r) => r === 'source'),
  target: (s) => Object.values(s).every((r) => r === 'target'),
  'either party': (s) => Object.values(s).every((r) => r === 'source and target'),
  'the blocking party': (s) => s['blocked by source'] === 'source' && s['blocked by target'] === 'target' && Object.keys(s).length === 2,
};

describe('the connection command declaration', () => {
  test.each(commandNames(connectionCommands))('who may send %s is what the machine allows', (name) => {
    const allowed = whoMay(name);
    expect(Object.keys(allowed).length, `nobody may ever send ${name}`).toBeGreaterThan(0);
    const check = expectedByWho[connectionCommands[name].who];
    expect(check, `unknown "who": ${connectionCommands[name].who}`).toBeDefined();
    expect(check!(allowed), `${name} is declared for ${connectionCommands[name].who}; the machine allows ${JSON.stringify(allowed)}`).toBe(true);
  });

  test('a command is declared to mail exactly when one of its transitions owes a mail', () => {
    const mailing = new Set<string>();
    for (const node of Object.values(connectionMachine.root.states) as AnyStateNode[]) {
      for (const [event, transitions] of node.transitions) {
        if (transitions.some((t) => t.actions.some((a) => (typeof a === 'string' ? a : (a as { type?: string }).type) === NOTIFY))) mailing.add(event);
      }
    }
    const declared = commandNames(connectionCommands).filter((n) => 'mails' in connectionCommands[n] && connectionCommands[n].mails);
    expect([...mailing].filter((e) => e in connectionCommands).sort()).toEqual(declared.sort());
  });

  test('every command has its own route', () => {
    const routes = commandNames(connectionCommands).map((n) => `${connectionCommands[n].http.method} ${connectionCommands[n].http.path}`);
    expect(new Set(routes).size).toBe(routes.length);
  });
});

describe('command arguments from callers going to Temporal directly', () => {
  test('a command carries its declared fields', () => {
    expect(commandEvent(connectionCommands, 'setOfferAccess', { actor: SOURCE, offerAccess: false } as never))
      .toEqual({ ok: true, event: { type: 'setOfferAccess', actor: SOURCE, offerAccess: false } });
  });

  test('a field of the wrong type is refused with its name', () => {
    const made = commandEvent(connectionCommands, 'setOfferAccess', { actor: SOURCE, offerAccess: 'no' } as never);
    expect(made).toMatchObject({ ok: false });
    expect(!made.ok && made.message).toContain('offerAccess');
  });

  test('a missing actor is refused', () => {
    expect(commandEvent(connectionCommands, 'accept', {} as never)).toMatchObject({ ok: false, message: 'actor must be a non-empty string' });
  });

  test('fields a command does not declare do not reach the machine', () => {
    expect(commandEvent(connectionCommands, 'accept', { actor: TARGET, offerAccess: false } as never)).toEqual({ ok: true, event: { type: 'accept', actor: TARGET } });
  });
});
