/**
 * The mails of one purchase (rule `purchase.record`), started by `purchaseWorkflow` as a child
 * with ParentClosePolicy ABANDON once the order is recorded: the purchase answers without waiting.
 * Each mail is rendered into the Postgres mail outbox, which the workers' dispatchers deliver
 * (retried until the relay takes it; skipped only when the recipient is refused for good, with the
 * reason on record: GET /v1/mails). A mail that cannot even be rendered (unknown template or
 * party) is logged and left out; it never affects the purchase.
 */
import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { PurchaseActivities, SaleMail } from '../activities/purchase.activities.ts';
import { activityPresets } from '../temporal.config.ts';

const mailer = proxyActivities<PurchaseActivities>(activityPresets.mail);

export interface PurchaseMailInput {
  mails: SaleMail[];
}

export interface PurchaseMailResult {
  /** Message-IDs handed to the outbox. */
  queued: string[];
  refused: Array<{ sourceClientId: string; reason: string }>;
}

export async function purchaseMailWorkflow({ mails }: PurchaseMailInput): Promise<PurchaseMailResult> {
  const result: PurchaseMailResult = { queued: [], refused: [] };
  await Promise.all(
    mails.map(async (mail) => {
      try {
        const { messageId } = await mailer.sendSaleMail(mail);
        result.queued.push(messageId);
      } catch (err) {
        const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
        if (!failure) throw err;
        log.warn('sale mail cannot be rendered; left out', { sourceClientId: mail.sourceClientId, orderId: mail.sale.orderId, type: failure.type, error: failure.message });
        result.refused.push({ sourceClientId: mail.sourceClientId, reason: `${failure.type ?? 'ERROR'}: ${failure.message}` });
      }
    }),
  );
  result.queued.sort();
  result.refused.sort((a, b) => a.sourceClientId.localeCompare(b.sourceClientId));
  return result;
}
