import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { diagramOf, loadRulesFile } from '../../cli/diagrams.ts';
import { connectionMachine } from '../../machines/connection.machine.ts';
import { toMermaid } from '../../machines/diagram.ts';
import { machineGraph } from '../../machines/graph.ts';
import { toSvg } from '../../machines/svg.ts';
import { machineSvg } from '../../api/machines.service.ts';
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

test('the SVG drawing holds every state and every transition, with the rules and mails of the rule set in force', () => {
  const svg = machineSvg('connection', defaultRules);
  const graph = machineGraph(connectionMachine, 'invite');
  for (const state of graph.states) expect(svg).toContain(`data-state="${state.key}"`);
  for (const edge of graph.edges) expect(svg).toContain(`data-edge="${edge.id}"`);
  expect(svg).toContain('rule callback-required');
  expect(svg).toContain('mail unblocked to other party');
  expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // nothing to fetch
});

test('text in a drawing is escaped', () => {
  const svg = toSvg(machineGraph(connectionMachine), { labelOf: () => 'a<b&"c"', notesOf: () => [{ kind: 'rule', text: "rule <x>'" }] });
  expect(svg).toContain('a&lt;b&amp;&quot;c&quot;');
  expect(svg).toContain('rule &lt;x&gt;&#39;');
  expect(svg).not.toContain('a<b');
});
