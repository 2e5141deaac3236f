/**
 * The SMTP side of system mails: the transport, how an SMTP failure is judged, and the sender
 * check at boot. `npm start` points SMTP_URL at the embedded sink (runtime/smtp-sink.ts) unless a
 * real relay is configured.
 */
import { Readable } from 'node:stream';
import nodemailer, { type Transporter } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { MailErrorKind } from '../db/schema.ts';

export const DEFAULT_MAIL_FROM = 'Cross-Client Connections <no-reply@ccx.invalid>';

/**
 * Bounded timeouts (nodemailer's defaults are 2 min to connect and 10 min of silence): one SMTP
 * conversation ends within minutes at worst, and the dispatcher's claim is renewed meanwhile.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 } as const;

/** `smtp://user:pass@host:587`, `smtps://…` or any URL nodemailer understands. */
export function createMailTransport(smtpUrl: string): Transporter {
  return nodemailer.createTransport({ url: smtpUrl, ...SMTP_TIMEOUTS });
}

export function mailFromAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.CCX_MAIL_FROM || DEFAULT_MAIL_FROM;
}

/** What nodemailer attaches to an SMTP failure. */
interface SmtpFailure {
  message?: string;
  code?: string;
  /** The SMTP command that failed: CONN, EHLO, AUTH PLAIN, MAIL FROM, RCPT TO, DATA, API (client side). */
  command?: string;
  responseCode?: number;
}

export type SmtpVerdict = { outcome: 'skip'; reason: string } | { outcome: 'retry'; kind: MailErrorKind; error: string };

/**
 * Only a refusal of the *recipient* (5xx to RCPT TO, or an address no server could take) skips a
 * mail. Every other 5xx — authentication (535), the sender refused (550/553/554 to MAIL FROM), the
 * message refused at DATA, a greeting that turns us away — means our setup is wrong: the mail is
 * retried, and marked `configuration` so health and logs show it. 4xx and network errors are
 * `transient`.
 */
export function judgeSmtpFailure(err: unknown): SmtpVerdict {
  const e = (err ?? {}) as SmtpFailure;
  const code = e.responseCode;
  const text = `${code !== undefined ? `SMTP ${code} ` : ''}${e.command ? `at ${e.command}: ` : ''}${e.message ?? String(err)}`;
  if (e.command === 'RCPT TO' && code !== undefined && code >= 500) return { outcome: 'skip', reason: `recipient refused: ${text}` };
  if (e.code === 'EENVELOPE' && e.command === 'API' && /recipient/i.test(e.message ?? '')) return { outcome: 'skip', reason: `invalid recipient: ${text}` };
  const configuration = (code !== undefined && code >= 500) || e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'ETLS';
  return { outcome: 'retry', kind: configuration ? 'configuration' : 'transient', error: text };
}

/** Reserved for documentation and tests (RFC 2606, RFC 6761): nobody receives mail there. */
const RESERVED_DOMAIN = /\.(invalid|test|example|localhost)$|^(example\.(com|net|org)|localhost)$/i;

/**
 * Whether a relay accepts `from` as the sender, asked the way MTAs verify addresses: connect, log
 * in, MAIL FROM and RCPT TO, then abort before any message is transferred (the connection closes
 * inside DATA, which RFC 5321 treats as an aborted transaction: nothing is delivered). Refusals
 * that are our fault (authentication, the sender) come back as `refused`; a relay that cannot be
 * reached right now is `unreachable` — the mails wait for it, so that must not stop a boot.
 */
export async function checkSender(smtpUrl: string, from: string): Promise<{ status: 'ok' } | { status: 'refused' | 'unreachable'; error: string }> {
  // The URL parsed the way the transport parses it (host, port, TLS, credentials).
  const address = new SMTPTransport({ url: smtpUrl }).options as SMTPConnection.Options & { auth?: SMTPConnection.Credentials };
  const sender = /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
  const domain = sender.split('@')[1] ?? '';
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(sender) || RESERVED_DOMAIN.test(domain)) {
    return { status: 'refused', error: `sender ${sender} cannot receive bounces or replies (set CCX_MAIL_FROM to an address of your domain)` };
  }
  const connection = new SMTPConnection({ ...address, ...SMTP_TIMEOUTS });
  // A connection error arrives as an event, not through the step's callback: it fails the step too.
  let failed: (err: Error) => void = () => {};
  connection.on('error', (err: Error) => failed(err));
  const step = (run: (done: (err?: Error | null) => void) => void) =>
    new Promise<void>((resolve, reject) => {
      failed = reject;
      run((err) => (err ? reject(err) : resolve()));
    });
  try {
    await step((done) => connection.connect(done));
    if (address.auth?.user) await step((done) => connection.login(address.auth!, done));
    const abort = new Readable({ read: () => abort.destroy(new Error('sender check: aborted before the message')) });
    await step((done) => connection.send({ from: sender, to: [sender] }, abort, done)).catch((err: SmtpFailure) => {
      if (err.code === 'ESTREAM' || (err.command === 'RCPT TO' && (err.responseCode ?? 0) >= 400)) return; // the sender passed
      throw err;
    });
    return { status: 'ok' };
  } catch (err) {
    const verdict = judgeSmtpFailure(err);
    const error = verdict.outcome === 'retry' ? verdict.error : verdict.reason;
    return { status: verdict.outcome === 'retry' && verdict.kind === 'configuration' ? 'refused' : 'unreachable', error };
  } finally {
    connection.close();
  }
}
