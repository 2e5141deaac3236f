import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMailTransport } from '../../activities/mailer.ts';
import { startSmtpSink, type SmtpSink } from '../../runtime/smtp-sink.ts';

let root: string;
let dir: string;
let sink: SmtpSink;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ccx-sink-'));
  dir = join(root, 'mails', 'nested'); // the sink creates missing directories itself
  sink = await startSmtpSink({ dir, port: 0 });
});
afterAll(async () => {
  await sink.stop();
  await rm(root, { recursive: true, force: true });
});

test('a mail sent to the SMTP sink is kept as an .eml file named after its Message-ID', async () => {
  const mailer = createMailTransport(`smtp://127.0.0.1:${sink.port}`);
  await mailer.sendMail({
    from: 'Cross-Client Connections <no-reply@ccx.invalid>',
    to: 'contact@client.example',
    subject: 'Verknüpfung mit Harbour Press beendet',
    text: 'Über diese Verknüpfung ist kein Verkauf mehr möglich.',
    messageId: '<0190a1b2-0000-7000-8000-00000000abcd.7.ended@ccx>',
  });

  const files = await readdir(dir);
  expect(files).toHaveLength(1);
  const [file] = files;
  expect(file).toMatch(/^\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z-0190a1b2-0000-7000-8000-00000000abcd\.7\.ended@ccx\.eml$/);
  const raw = await readFile(join(dir, file!), 'utf8');
  expect(raw).toContain('Message-ID: <0190a1b2-0000-7000-8000-00000000abcd.7.ended@ccx>');
  expect(raw).toContain('To: contact@client.example');
});
