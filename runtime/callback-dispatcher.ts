/**
 * Delivers the callback outbox (db/callback.repository.ts) to the sources, like the mail
 * dispatcher delivers mails: every worker process runs one, they share the work through
 * `FOR UPDATE SKIP LOCKED` claims with a lease renewed while a request lasts, a dead worker's
 * deliveries are taken over when its lease runs out, and each delivery is claimed, retried and
 * backed off on its own, a bounded number in flight — a slow receiver holds no purchase, no
 * connection and no other delivery (docs/callbacks.md).
 *
 * Each attempt reads the connection's current URL and secret (a `PUT …/callback` applies from the
 * next attempt), signs the frozen body with a fresh timestamp and sends it (runtime/callback-sender.ts).
 * A 2xx acknowledges; a 4xx other than 408 and 429 fails the delivery for good; anything else is
 * retried, the first time after about 2 s, doubling up to an hour, until 3 days have passed.
 */
import type { Kysely } from 'kysely';
import { decryptSecret, encryptSecret, needsReencryption, type Keyring } from '../api/secrets.ts';
import {
  claimDueCallbacks,
  getCallbacks,
  listCallbackSecrets,
  recordAttempt,
  recordDeliveredMany,
  renewCallbackLease,
  replaceCallbackSecret,
  type AttemptOutcome,
  type CallbackDeliveryRow,
  type StoredCallback,
} from '../db/callback.repository.ts';
import type { Database } from '../db/schema.ts';
import { CallbackSendError, postCallback, signatureHeader, type Resolve } from './callback-sender.ts';
import { groupCommit } from './group-commit.ts';
import { startOutboxLoop, throttled, untilRecorded, whileLeased } from './outbox-loop.ts';

export interface CallbackDispatcherOptions {
  db: Kysely<Database>;
  /** The deployment's task queue: the deliveries its activities and API enqueued. */
  queue: string;
  keyring: Keyring;
  /** CCX_ALLOW_INSECURE_CALLBACKS=1: loopback receivers (development, tests). */
  allowInsecure: boolean;
  /** How host names are resolved (the system resolver unless a test says otherwise). */
  resolve?: Resolve;
  intervalMs?: number;
  /** How long a claim lasts unless renewed (renewed every third of it while the request lasts). */
  leaseMs?: number;
  /** Deliveries in flight at once. */
  batch?: number;
  /** A receiver that has not answered by then counts as not acknowledged. */
  requestTimeoutMs?: number;
}

export interface CallbackDispatcher {
  stop(): Promise<void>;
}

/** 2 s, 4 s, 8 s … up to an hour, ±20 % so that a backlog does not retry in lockstep. */
export function callbackRetryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(3_600_000, 2000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** What an answer means: acknowledged, refused for good, or worth another attempt. */
export function judgeStatus(status: number): 'delivered' | 'failed' | 'retry' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'failed';
  return 'retry';
}

export function startCallbackDispatcher(options: CallbackDispatcherOptions, log: (message: string) => void = console.log): CallbackDispatcher {
  const { db, queue, intervalMs = 500, leaseMs = 60_000, batch = 16 } = options;
  const quietLog = throttled(log, 60_000);

  /** A claimed delivery with its connection's URL and secret as they are now (read with the claim). */
  type Claimed = CallbackDeliveryRow & { callback: StoredCallback | undefined };

  const attemptOnce = async (delivery: Claimed): Promise<Omit<AttemptOutcome, 'attempt'>> => {
    const at = new Date();
    const fail = (error: string) => ({ at, latencyMs: 0, statusCode: null, error, outcome: 'retry' as const, delayMs: callbackRetryDelayMs(delivery.attempts) });
    const { callback } = delivery;
    // Never sent unsigned: an invitation of the old gap waits for its source to set a secret.
    if (!callback?.secret_enc) return fail('no callback secret is configured: the source sets one with PUT /v1/connections/{id}/callback');
    let secret: string;
    try {
      secret = decryptSecret(options.keyring, callback.secret_enc);
    } catch (err) {
      quietLog('key', `CALLBACK SECRETS UNREADABLE — check CCX_SECRET_KEY and CCX_SECRET_KEYS_PREVIOUS: ${(err as Error).message}`);
      return fail(`the stored secret cannot be opened with the configured keys`);
    }
    const payload = JSON.parse(delivery.body) as { callbackType: string };
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'ccx-callbacks/1',
      'x-ccx-delivery': delivery.id,
      'x-ccx-event': payload.callbackType,
      'x-ccx-sequence': String(delivery.sequence),
      'x-ccx-signature': signatureHeader(secret, Math.floor(at.getTime() / 1000), delivery.body),
    };
    const started = performance.now();
    try {
      const status = await postCallback({
        url: callback.url,
        body: delivery.body,
        headers,
        allowInsecure: options.allowInsecure,
        resolve: options.resolve,
        timeoutMs: options.requestTimeoutMs,
      });
      const latencyMs = Math.round(performance.now() - started);
      const outcome = judgeStatus(status);
      return {
        at, latencyMs, statusCode: status, outcome,
        error: outcome === 'delivered' ? null : `answered ${status}`,
        ...(outcome === 'retry' ? { delayMs: callbackRetryDelayMs(delivery.attempts) } : {}),
      };
    } catch (err) {
      const message = err instanceof CallbackSendError ? err.message : String(err);
      return { ...fail(message), latencyMs: Math.round(performance.now() - started) };
    }
  };

  // Acknowledgements go together under load (runtime/group-commit.ts): one statement for many.
  const recordDelivered = groupCommit((acks: Parameters<typeof recordDeliveredMany>[1][number][]) => recordDeliveredMany(db, acks));

  const deliver = (delivery: Claimed, token: string): Promise<void> =>
    whileLeased(() => renewCallbackLease(db, delivery.id, token, leaseMs), leaseMs, async () => {
      const result = await attemptOnce(delivery);
      const outcome: AttemptOutcome = { ...result, attempt: delivery.attempts };
      // An acknowledgement must be recorded even through a short database outage, or it goes
      // again; any other outcome not recorded is left to the lease (the attempt is repeated).
      const recorded = await untilRecorded(
        async () => {
          if (outcome.outcome !== 'delivered' || outcome.statusCode === null) return recordAttempt(db, delivery, token, outcome);
          await recordDelivered({ deliveryId: delivery.id, attempt: outcome.attempt, at: outcome.at, latencyMs: outcome.latencyMs, statusCode: outcome.statusCode });
          return 'delivered' as const;
        },
        (wait) => outcome.outcome !== 'delivered' || (loop.stopped && wait >= 5000),
        (err) => quietLog('record', `callback ${delivery.id} acknowledged but not yet recorded (${String(err)}); retrying`),
      );
      if (recorded === 'failed') log(`callback ${delivery.id} of connection ${delivery.connection_id} failed: ${outcome.error ?? ''}`);
    });

  const loop = startOutboxLoop({
    name: 'callback dispatcher',
    intervalMs,
    batch,
    claim: async (token, limit) => {
      const claimed = await claimDueCallbacks(db, queue, token, limit, leaseMs);
      // Each attempt uses the connection's URL and secret as they are now: read once per claim.
      const callbacks = await getCallbacks(db, claimed.map((d) => d.connection_id));
      return claimed.map((d): Claimed => ({ ...d, callback: callbacks.get(d.connection_id) }));
    },
    deliver,
    log: quietLog,
  });
  return { stop: () => loop.stop() };
}

/**
 * Seals every stored secret with the current key (after a rotation; idempotent, and a secret the
 * source replaced meanwhile is left as it is). A secret no key opens is counted and left.
 */
export async function reencryptCallbackSecrets(db: Kysely<Database>, keyring: Keyring): Promise<{ reencrypted: number; unreadable: number }> {
  const counts = { reencrypted: 0, unreadable: 0 };
  for (const row of await listCallbackSecrets(db)) {
    if (!needsReencryption(keyring, row.secret_enc)) continue;
    let plain: string;
    try {
      plain = decryptSecret(keyring, row.secret_enc);
    } catch {
      counts.unreadable += 1;
      continue;
    }
    await replaceCallbackSecret(db, row.connection_id, row.secret_enc, encryptSecret(keyring.current, plain));
    counts.reencrypted += 1;
  }
  return counts;
}
