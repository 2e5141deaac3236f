/**
 * Configuration from the environment (docs/architecture.md "HTTP API"); every variable is optional and the
 * defaults run everything embedded under CCX_DATA_DIR.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mailFromAddress } from '../activities/mailer.ts';
import { defaultAdmission, type AdmissionSettings } from '../api/admission.ts';
import { temporalSettings, type TemporalSettings } from '../temporal.config.ts';

export interface Config {
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  operatorKey: string | undefined;
  temporal: TemporalSettings;
  /** CCX_FANOUT_RELAY_MS: how often the worker starts fan-outs for pairs left untold (0 = never). */
  fanoutRelayMs: number;
  /** CCX_MAIL_LEASE_MS: how long a worker's claim on a mail lasts unless renewed (a dead worker's mails wait this long). */
  mailLeaseMs: number;
  /** CCX_MAX_IN_FLIGHT, CCX_ADMISSION_QUEUE, CCX_ADMISSION_WAIT_MS (api/admission.ts). */
  admission: AdmissionSettings;
  /** CCX_CALLBACK_LEASE_MS: the same for a callback delivery. */
  callbackLeaseMs: number;
  /** CCX_ALLOW_INSECURE_CALLBACKS=1: callbacks to loopback, plain http included (development, tests). */
  allowInsecureCallbacks: boolean;
}

const positiveOr = (value: string | undefined, fallback: number) => (value !== undefined && Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : fallback);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: Number(env.PORT ?? 3000),
    dataDir: path.resolve(env.CCX_DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || undefined,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: mailFromAddress(env),
    operatorKey: env.CCX_OPERATOR_KEY || undefined,
    temporal: temporalSettings(env),
    mailLeaseMs: Number(env.CCX_MAIL_LEASE_MS) > 0 ? Number(env.CCX_MAIL_LEASE_MS) : 60_000,
    callbackLeaseMs: Number(env.CCX_CALLBACK_LEASE_MS) > 0 ? Number(env.CCX_CALLBACK_LEASE_MS) : 60_000,
    allowInsecureCallbacks: env.CCX_ALLOW_INSECURE_CALLBACKS === '1',
    fanoutRelayMs: Number.isFinite(Number(env.CCX_FANOUT_RELAY_MS || 5000)) ? Number(env.CCX_FANOUT_RELAY_MS || 5000) : 5000,
    admission: {
      limit: positiveOr(env.CCX_MAX_IN_FLIGHT, defaultAdmission.limit),
      queue: positiveOr(env.CCX_ADMISSION_QUEUE, defaultAdmission.queue),
      maxWaitMs: positiveOr(env.CCX_ADMISSION_WAIT_MS, defaultAdmission.maxWaitMs),
    },
  };
}

/**
 * The key that encrypts stored callback secrets: CCX_SECRET_KEY (64 hex chars) in production; on
 * embedded defaults one is generated once into the data directory so restarts can still decrypt.
 * Against a configured DATABASE_URL — shared by every host of the deployment — a key generated on
 * one host would make what it stores unreadable to the others: the key must be given, or nothing
 * starts.
 */
export function loadSecretKey(config: Config, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (env.CCX_SECRET_KEY) {
    const key = Buffer.from(env.CCX_SECRET_KEY, 'hex');
    if (key.length !== 32 || !/^[0-9a-f]{64}$/i.test(env.CCX_SECRET_KEY)) throw new Error('CCX_SECRET_KEY must be 64 hex characters (32 bytes)');
    return key;
  }
  if (config.databaseUrl) {
    throw new Error(
      'CCX_SECRET_KEY is not set: with DATABASE_URL every API and worker host must use the same key (64 hex characters, e.g. `openssl rand -hex 32`), or hosts cannot read each other\'s stored secrets',
    );
  }
  const file = path.join(config.dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}

/**
 * The keys of stored callback secrets: CCX_SECRET_KEY seals, CCX_SECRET_KEYS_PREVIOUS (comma
 * separated, 64 hex characters each) still open what older keys sealed until it is re-encrypted.
 */
export function loadSecretKeyring(config: Config, env: NodeJS.ProcessEnv = process.env): { current: Buffer; previous: Buffer[] } {
  const previous = (env.CCX_SECRET_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
    .map((k) => {
      if (!/^[0-9a-f]{64}$/i.test(k)) throw new Error('CCX_SECRET_KEYS_PREVIOUS must be keys of 64 hex characters, separated by commas');
      return Buffer.from(k, 'hex');
    });
  return { current: loadSecretKey(config, env), previous };
}
