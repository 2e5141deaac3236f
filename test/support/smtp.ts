/**
 * A real SMTP server inside the test process: the worker's nodemailer talks SMTP to it, and the
 * test reads what arrived. Nothing about sending is faked.
 */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  to: string;
  subject: string;
  messageId: string;
  text: string;
  template: string;
  contentLanguage: string | undefined;
}

export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** The server answers `code` (550: mailbox unavailable) for this recipient from now on; `null` accepts it again. */
  refuse(address: string, code?: number | null): void;
  /** Every MAIL FROM is answered with `code` (451: try later; 550/553: sender refused) until `null`. */
  failSender(code: number | null): void;
  /** Each mail (to `address` only, if given) is acknowledged only `ms` after its data arrived (a slow relay). */
  delayAcceptance(ms: number, address?: string): void;
  /** Raw deliveries per Message-ID (a duplicate counts twice). */
  countOf(messageId: string): number;
  /** Mails arriving from now on are recorded but not acknowledged until `release()`. */
  hold(): void;
  release(): void;
  /** Resolves once `count` mails matching `filter` have arrived (or rejects after `timeoutMs`). */
  waitFor(filter: (m: ReceivedMail) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export async function startTestSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let held: Promise<void> | undefined;
  const refused = new Map<string, number>();
  let senderFailure: number | null = null;
  let acceptanceDelayMs = 0;
  let delayedAddress: string | undefined;
  const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });
  let releaseHeld = () => {};
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      if (senderFailure === null) return callback();
      callback(smtpError(senderFailure, senderFailure < 500 ? 'try again later' : 'sender refused'));
    },
    onRcptTo(address, _session, callback) {
      const code = refused.get(address.address);
      if (code === undefined) return callback();
      callback(smtpError(code, code < 500 ? 'mailbox busy, try again later' : 'mailbox unavailable'));
    },
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((parsed) => {
          const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
          mails.push({
            to: to?.value[0]?.address ?? '',
            subject: parsed.subject ?? '',
            messageId: parsed.messageId ?? '',
            text: parsed.text ?? '',
            template: String(parsed.headers.get('x-ccx-template') ?? ''),
            contentLanguage: parsed.headers.get('content-language') as string | undefined,
          });
          const delayed = acceptanceDelayMs > 0 && (delayedAddress === undefined || delayedAddress === to?.value[0]?.address);
          return Promise.all([held, delayed ? new Promise((r) => setTimeout(r, acceptanceDelayMs)) : undefined]);
        })
        .then(() => done())
        .catch(done);
    },
  });
  // A client that dies mid-conversation (a SIGKILLed worker) resets its connection: that is the
  // relay's everyday life, not a reason to crash the server (an 'error' without a listener would).
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(filter, count = 1, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = mails.filter(filter);
        if (found.length >= count) return found;
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} mail(s), got ${found.length}; all: ${JSON.stringify(mails.map((m) => [m.to, m.template]))}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    refuse(address, code = 550) {
      if (code === null) refused.delete(address);
      else refused.set(address, code);
    },
    failSender(code) {
      senderFailure = code;
    },
    delayAcceptance(ms, address) {
      acceptanceDelayMs = ms;
      delayedAddress = address;
    },
    countOf(messageId) {
      return mails.filter((m) => m.messageId === messageId).length;
    },
    hold() {
      held = new Promise((resolve) => (releaseHeld = resolve));
    },
    release() {
      releaseHeld();
      held = undefined;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
