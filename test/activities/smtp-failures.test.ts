/**
 * How an SMTP failure is judged (pure), and the sender check at boot against a real SMTP server.
 * Only a refusal of the recipient may skip a mail; our own misconfiguration is retried and shown.
 */
import { describe, expect, test } from 'vitest';
import { checkSender, judgeSmtpFailure } from '../../activities/mailer.ts';
import { startTestSmtp } from '../support/smtp.ts';

const failure = (responseCode: number | undefined, command: string, code = 'EENVELOPE') => Object.assign(new Error('refused'), { responseCode, command, code });

describe('judging SMTP failures', () => {
  test.for([
    [550, 'RCPT TO'],
    [551, 'RCPT TO'],
    [553, 'RCPT TO'],
  ] as const)('%i to RCPT TO refuses the recipient: the mail is skipped with the reason', ([code, command]) => {
    expect(judgeSmtpFailure(failure(code, command))).toEqual({ outcome: 'skip', reason: expect.stringContaining(`SMTP ${code} at RCPT TO`) });
  });

  test.for([
    [535, 'AUTH PLAIN', 'EAUTH'],
    [530, 'MAIL FROM', 'EENVELOPE'],
    [550, 'MAIL FROM', 'EENVELOPE'],
    [553, 'MAIL FROM', 'EENVELOPE'],
    [554, 'MAIL FROM', 'EENVELOPE'],
    [554, 'DATA', 'EMESSAGE'],
    [554, 'CONN', 'EPROTOCOL'],
  ] as const)('%i at %s is our setup, not the recipient: retried as a configuration error', ([code, command, errCode]) => {
    expect(judgeSmtpFailure(failure(code, command, errCode))).toMatchObject({ outcome: 'retry', kind: 'configuration' });
  });

  test.for([
    [451, 'MAIL FROM'],
    [452, 'RCPT TO'],
    [421, 'CONN'],
  ] as const)('%i at %s is transient: retried', ([code, command]) => {
    expect(judgeSmtpFailure(failure(code, command))).toMatchObject({ outcome: 'retry', kind: 'transient' });
  });

  test('a connection that fails is transient', () => {
    expect(judgeSmtpFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET', command: 'CONN' }))).toMatchObject({ outcome: 'retry', kind: 'transient' });
  });
});

describe('the sender check at boot', () => {
  test('a relay that accepts the sender passes, and nothing is delivered by the check', async () => {
    const smtp = await startTestSmtp();
    try {
      expect(await checkSender(smtp.url, 'Verlag <no-reply@verlag.de>')).toEqual({ status: 'ok' });
      await new Promise((r) => setTimeout(r, 200));
      expect(smtp.mails).toHaveLength(0);
    } finally {
      await smtp.stop();
    }
  });

  test.for([550, 553])('a relay that refuses the sender with %i is refused', async (code) => {
    const smtp = await startTestSmtp();
    smtp.failSender(code);
    try {
      expect(await checkSender(smtp.url, 'no-reply@verlag.de')).toEqual({ status: 'refused', error: expect.stringContaining(`SMTP ${code} at MAIL FROM`) });
    } finally {
      await smtp.stop();
    }
  });

  test('a sender in a reserved domain (the default no-reply@ccx.invalid) is refused without asking', async () => {
    expect(await checkSender('smtp://127.0.0.1:1', 'Cross-Client Connections <no-reply@ccx.invalid>')).toMatchObject({ status: 'refused' });
  });

  test('a relay that cannot be reached now is unreachable, not refused: the mails wait for it', async () => {
    expect(await checkSender('smtp://127.0.0.1:1', 'no-reply@verlag.de')).toMatchObject({ status: 'unreachable' });
  });
});
