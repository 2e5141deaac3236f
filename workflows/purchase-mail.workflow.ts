/**
 * The mails of one purchase (rule `purchase.record`), started by `purchaseWorkflow` as a child
 * with ParentClosePolicy ABANDON once the order is recorded: the purchase answers without waiting
 * for SMTP, and this run keeps retrying (mail preset: backoff up to a minute, never gives up)
 * until each mail is out. A mail the server refuses for good (SMTP 5xx, `MAIL_REJECTED`) is
 * logged and skipped; it never affects the purchase.
 */
import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { PurchaseActivities, SaleMail } from '../activities/purchase.activities.ts';
import { activityPresets } from '../temporal.config.ts';

const mailer = proxyActivities<PurchaseActivities>(activityPresets.mail);

export interface PurchaseMailInput {
  mails: SaleMail[];
}

export interface PurchaseMailResult {
  sent: string[];
  refused: Array<{ sourceClientId: string; reason: string }>;
}

export async function purchaseMailWorkflow({ mails }: PurchaseMailInput): Promise<PurchaseMailResult> {
  const result: PurchaseMailResult = { sent: [], refused: [] };
  await Promise.all(
    mails.map(async (mail) => {
      try {
        const { messageId } = await mailer.sendSaleMail(mail);
        result.sent.push(messageId);
      } catch (err) {
        const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
        if (!failure) throw err;
        log.warn('sale mail refused for good; skipped', { sourceClientId: mail.sourceClientId, orderId: mail.sale.orderId, type: failure.type, error: failure.message });
        result.refused.push({ sourceClientId: mail.sourceClientId, reason: `${failure.type ?? 'ERROR'}: ${failure.message}` });
      }
    }),
  );
  result.sent.sort();
  result.refused.sort((a, b) => a.sourceClientId.localeCompare(b.sourceClientId));
  return result;
}
