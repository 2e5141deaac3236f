import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { diagramOf, loadRulesFile } from '../../cli/diagrams.ts';
import { connectionMachine } from '../../machines/connection.machine.ts';
import { toMermaid } from '../../machines/diagram.ts';
import { HEADER, compile } from '../rules/support.ts';

const defaultRules = await loadRulesFile();

test('the diagram shows every state and who may do what', () => {
  const diagram = diagramOf('connection', defaultRules);
  for (const state of ['invited', 'active', 'blocked', 'declined', 'withdrawn', 'expired', 'ended', 'rejected']) {
    expect(diagram).toContain(state);
  }
  expect(diagram).toContain('blocked --> active: unblock [isBlocker] / clearBlocker, mail unblocked to other party');
  expect(diagram).toContain('screening --> invited: invite / mail invitation to target');
});

test('mails are drawn as the rule set in force routes them, not as the machine would guess', () => {
  const quiet = compile(HEADER.replace('{ template: accepted, recipient: source }', '{ template: accepted, recipient: target, enabled: false }')
    .replace('{ template: ended, recipient: otherParty }', '{ template: blocked, recipient: source }'));
  const diagram = diagramOf('connection', quiet);
  expect(diagram).toContain('invited --> active: accept [isTargetWithModules] / no mail');
  expect(diagram).toContain('active --> ended: end [isParty] / mail blocked to source');
  expect(toMermaid(connectionMachine)).toContain('invited --> active: accept [isTargetWithModules] / mail');
});

test("the README's picture of the connection machine is current", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain('```mermaid\n' + diagramOf('connection', defaultRules) + '```');
});

test("the README's picture of the cart machine is current", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain('```mermaid\n' + diagramOf('cart', defaultRules) + '```');
});
