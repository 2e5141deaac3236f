/**
 * What `ccx worker` (and so `npm start`) refuses at boot, as a real process: a relay that refuses
 * our sender would fail every mail, so the process stops with the reason instead of starting.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { startTestSmtp, type TestSmtp } from '../support/smtp.ts';

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startTestSmtp();
});
afterAll(() => smtp?.stop());

function runWorker(env: Record<string, string>, command = 'worker'): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', command], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: inject('databaseUrl'),
      CCX_TASK_QUEUE: `boot-${randomUUID()}`,
      // Workers sign callbacks: with DATABASE_URL they need the deployment's key like API hosts.
      CCX_SECRET_KEY: 'ab'.repeat(32),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stopping = false;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    // It started: stop it, once (a second SIGTERM would kill it before its clean stop).
    if (!stopping && (output.includes('worker polling') || output.includes('HTTP API on'))) {
      stopping = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

test('a worker whose relay refuses the sender (553 to MAIL FROM) refuses to start and says why', async () => {
  smtp.failSender(553);
  const { code, output } = await runWorker({ SMTP_URL: smtp.url, CCX_MAIL_FROM: 'no-reply@verlag-test.de' });
  expect(code).toBe(1);
  expect(output).toContain('SMTP_URL refuses our sender no-reply@verlag-test.de');
  expect(output).not.toContain('worker polling');
});

test('with SMTP_URL set, the undeliverable default sender is refused', async () => {
  smtp.failSender(null);
  const { code, output } = await runWorker({ SMTP_URL: smtp.url, CCX_MAIL_FROM: '' });
  expect(code).toBe(1);
  expect(output).toMatch(/SMTP_URL refuses our sender .*ccx\.invalid/);
});

test('a relay that is down does not stop the boot: the mails wait in the outbox', async () => {
  const { code, output } = await runWorker({ SMTP_URL: 'smtp://127.0.0.1:1', CCX_MAIL_FROM: 'no-reply@verlag-test.de' });
  expect(output).toContain('SMTP relay not reachable now');
  expect(output).toContain('worker polling');
  expect(code).toBe(0);
});

test('an API host against a shared DATABASE_URL without CCX_SECRET_KEY refuses to start (it would generate a key of its own)', async () => {
  const { code, output } = await runWorker({ CCX_SECRET_KEY: '', PORT: '0' }, 'api');
  expect(code).toBe(1);
  expect(output).toContain('CCX_SECRET_KEY is not set');
  expect(output).not.toContain('HTTP API on');
});

test('with CCX_SECRET_KEY set, the same API host starts', async () => {
  const { code, output } = await runWorker({ CCX_SECRET_KEY: 'ab'.repeat(32), PORT: '0', CCX_OPERATOR_KEY: `ccx_op_${randomUUID()}` }, 'api');
  expect(output).toContain('HTTP API on');
  expect(code).toBe(0);
});
