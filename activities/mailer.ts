/**
 * The SMTP side of system mails. `npm start` points SMTP_URL at the embedded sink
 * (runtime/smtp-sink.ts) unless a real relay is configured.
 */
import nodemailer, { type Transporter } from 'nodemailer';

export const DEFAULT_MAIL_FROM = 'Cross-Client Connections <no-reply@ccx.invalid>';

/** `smtp://user:pass@host:587`, `smtps://…` or any URL nodemailer understands. */
export function createMailTransport(smtpUrl: string): Transporter {
  return nodemailer.createTransport(smtpUrl);
}

export function mailFromAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.CCX_MAIL_FROM || DEFAULT_MAIL_FROM;
}
