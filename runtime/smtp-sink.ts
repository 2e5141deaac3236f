/**
 * The embedded "SMTP sink" of `npm start` (docs/architecture.md "Embedded defaults and scale-out"): a real SMTP server on
 * localhost that accepts every mail and keeps it on disk as an .eml file, so the mail path is
 * the same nodemailer-over-SMTP code as in production and the mails can be opened in any client.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface SmtpSinkOptions {
  dir: string;
  /** 0 = any free port (tests). */
  port?: number;
  host?: string;
}

export interface SmtpSink {
  port: number;
  stop(): Promise<void>;
}

/** The Message-ID header of a raw message, unfolded; undefined when it has none. */
function messageIdOf(raw: Buffer): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
  return /^message-id:\s*(.+)$/im.exec(head)?.[1]?.trim();
}

function fileNameFor(raw: Buffer): string {
  const time = new Date().toISOString().replace(/:/g, '');
  // Message-IDs come from the network: keep only characters that are safe in any file system.
  const id = (messageIdOf(raw) ?? 'no-message-id').replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 150);
  return `${time}-${id}.eml`;
}

export async function startSmtpSink({ dir, port = 0, host = '127.0.0.1' }: SmtpSinkOptions): Promise<SmtpSink> {
  await mkdir(dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    // Local only; without a certificate nodemailer would try STARTTLS against a self-signed one.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        // Answer only after the file is written: a 250 then really means "kept".
        writeFile(join(dir, fileNameFor(raw)), raw).then(
          () => callback(),
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After start-up, a broken client connection must not bring the process down.
  server.on('error', () => {});
  return {
    port: (server.server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
