/** `ccx rules check`, `explain` and `diff` as a product owner runs them. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../api/rule-set.service.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'ccx-rules-'));

async function ccx(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', ...args], { env: { ...process.env, CCX_RULES: '' } });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

test('check accepts the default rule set and names its version', async () => {
  const { code, stdout } = await ccx('rules', 'check', DEFAULT_RULES_FILE);
  expect(code).toBe(0);
  expect(stdout).toMatch(/ok — rule set "default", version [0-9a-f]{64}/);
});

test('check lists every error with file:line:column and exits 1', async () => {
  const file = path.join(dir, 'broken.rules.yaml');
  const broken = readFileSync(DEFAULT_RULES_FILE, 'utf8').replace('connection.hasCallback', 'connection.hasCalback').replace('P30D', 'soon');
  writeFileSync(file, broken);
  const { code, stdout } = await ccx('rules', 'check', file);
  expect(code).toBe(1);
  const line = broken.split('\n').findIndex((l) => l.includes('hasCalback')) + 1;
  expect(stdout).toContain(`${file}:${line}:`);
  expect(stdout).toContain('did you mean `hasCallback`?');
  // The misspelt callback guard is also no longer the one every rule set keeps (rules/invariants.ts).
  expect(stdout).toContain(`${file}:${line}:`);
  expect(stdout).toContain('RULES_INVARIANT guard `callback-required` must require exactly');
  expect(stdout).toMatch(/3 error\(s\)/);
});

test('diff of two files lists what changed in words', async () => {
  const file = path.join(dir, 'shorter.rules.yaml');
  writeFileSync(file, readFileSync(DEFAULT_RULES_FILE, 'utf8').replace('P30D', 'P7D'));
  const { code, stdout } = await ccx('rules', 'diff', DEFAULT_RULES_FILE, file);
  expect(code).toBe(0);
  expect(stdout).toContain('  - Invitations expire 1 week after they are sent (was 30 days); this applies to invitations sent after publishing');
});

test('explain shows each rule of an event with its verdict and the facts it read', async () => {
  const facts = path.join(dir, 'invite.json');
  const client = (id: string, company: string, moduleActive: boolean) => ({ id, name: id, language: 'de', company: { id: company, moduleActive } });
  writeFileSync(
    facts,
    JSON.stringify({
      source: client('MORGENPOST', 'NORD', true),
      target: client('ABENDBLATT', 'SUED', true),
      connection: { id: 'c1', status: 'new', offerAccess: true, hasCallback: false, blockedBy: '' },
    }),
  );
  const { code, stdout } = await ccx('rules', 'explain', 'connection.invite', facts);
  expect(code).toBe(0);
  expect(stdout).toMatch(/passed\s+source-module-active/);
  expect(stdout).toMatch(/refused\s+callback-required/);
  expect(stdout).toContain('connection.hasCallback = false');
  expect(stdout).toContain('"allowed":false');
});
