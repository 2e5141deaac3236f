import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { connectionMachine } from '../../machines/connection.machine.ts';
import { toMermaid } from '../../machines/diagram.ts';

test('the diagram shows every state and who may do what', () => {
  const diagram = toMermaid(connectionMachine);
  for (const state of ['invited', 'active', 'blocked', 'declined', 'withdrawn', 'expired', 'ended', 'rejected']) {
    expect(diagram).toContain(state);
  }
  expect(diagram).toContain('blocked --> active: unblock [isBlocker]');
  expect(diagram).toContain('invited --> active: accept [isTargetWithModules] / mail accepted to source');
});

test("the README's picture of the connection machine is current", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain('```mermaid\n' + toMermaid(connectionMachine) + '```');
});
