/**
 * The suite's SMTP server, in-process: a real SMTP conversation with the workers' nodemailer,
 * recording every message accepted (raw: how often each Message-ID arrived, to whom, when), with
 * switchable modes for scenario (d):
 *   accept         — every message is taken;
 *   tempfail       — `451 4.3.0` to MAIL FROM: a transient failure, the sender must retry;
 *   refuse-sender  — `550 5.7.1` to MAIL FROM: our sender address is refused, a configuration
 *                    error on OUR side, not a verdict on the mail: once fixed, the mails must still go.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type SmtpMode = 'accept' | 'tempfail' | 'refuse-sender';

export interface ReceivedMessage {
  messageId: string;
  /** How often a message with this Message-ID was accepted (1 = no raw duplicate). */
  count: number;
  to: string[];
  template: string;
  firstAt: number;
  lastAt: number;
}

export interface FaultSmtp {
  url: string;
  mode(): SmtpMode;
  setMode(mode: SmtpMode): void;
  /** Per Message-ID, every message accepted so far. */
  received: Map<string, ReceivedMessage>;
  stats: { accepted: number; withoutMessageId: number; tempfailed: number; refused: number };
  stop(): Promise<void>;
}

export async function startFaultSmtp(): Promise<FaultSmtp> {
  let mode: SmtpMode = 'accept';
  const received = new Map<string, ReceivedMessage>();
  const stats = { accepted: 0, withoutMessageId: 0, tempfailed: 0, refused: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 1024 * 1024,
    onMailFrom(_address, _session, callback) {
      if (mode === 'tempfail') {
        stats.tempfailed++;
        return callback(Object.assign(new Error('4.3.0 Service temporarily unavailable, try again later'), { responseCode: 451 }));
      }
      if (mode === 'refuse-sender') {
        stats.refused++;
        return callback(Object.assign(new Error('5.7.1 Sender address rejected: not permitted to relay'), { responseCode: 550 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = raw.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
        const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(headers)?.[1]?.trim() ?? '';
        const messageId = header('Message-ID');
        const now = Date.now();
        stats.accepted++;
        if (!messageId) stats.withoutMessageId++;
        const known = received.get(messageId);
        if (known) {
          known.count++;
          known.lastAt = now;
        } else {
          received.set(messageId, {
            messageId,
            count: 1,
            to: session.envelope.rcptTo.map((r) => r.address),
            template: header('X-CCX-Template'),
            firstAt: now,
            lastAt: now,
          });
        }
        callback();
      });
    },
  });
  // A client that dies mid-conversation (a SIGKILLed worker) resets its connection: that is the
  // relay's everyday life, not a reason to crash the server (an 'error' without a listener would).
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mode: () => mode,
    setMode(next) {
      mode = next;
    },
    received,
    stats,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
