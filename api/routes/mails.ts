/**
 * GET /v1/mails (operator, viewer): every system mail as the outbox records it — pending (attempts, the
 * last error and whether it is our setup or the relay), sent, or skipped with the reason — so an
 * operator sees what is stuck and what was never delivered (docs/reliability.md "Mails").
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { listMails, type MailRow } from '../../db/mail.repository.ts';
import type { Database } from '../../db/schema.ts';
import { authenticateRoutes } from '../auth.ts';
import { withZod } from '../validation.ts';

const MailsQuery = z.strictObject({
  state: z.enum(['pending', 'sent', 'skipped']).optional(),
  connectionId: z.uuid().optional(),
  messageId: z.string().max(512).optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const Mail = z.object({
  messageId: z.string(),
  connectionId: z.string().nullable(),
  template: z.string(),
  recipient: z.string(),
  language: z.enum(['de', 'en']),
  subject: z.string(),
  state: z.enum(['pending', 'sent', 'skipped']),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable().describe('pending only: when the next attempt is due'),
  lastError: z.string().nullable(),
  lastErrorKind: z.enum(['configuration', 'transient']).nullable().describe('configuration: the relay refuses our setup; transient: down or deferring'),
  reason: z.string().nullable().describe('skipped only: why (the recipient was refused for good)'),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});
const MailList = z.object({ items: z.array(Mail), nextCursor: z.string().nullable() });

const toView = (m: MailRow): z.infer<typeof Mail> => ({
  messageId: m.message_id,
  connectionId: m.connection_id,
  template: m.template,
  recipient: m.recipient,
  language: m.language,
  subject: m.subject,
  state: m.state,
  attempts: m.attempts,
  nextAttemptAt: m.state === 'pending' ? m.next_attempt_at.toISOString() : null,
  lastError: m.last_error,
  lastErrorKind: m.last_error_kind,
  reason: m.skipped_reason,
  createdAt: m.created_at.toISOString(),
  sentAt: m.sent_at ? m.sent_at.toISOString() : null,
});

export function mailRoutes(deps: { db: Kysely<Database> }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'operator');
    app.get(
      '/v1/mails',
      {
        schema: {
          tags: ['operator'],
          summary: 'System mails and their delivery: pending (retrying, with the last error), sent, skipped with the reason (operator, viewer)',
          querystring: MailsQuery,
          response: { 200: MailList },
        },
      },
      async (request) => {
        const page = await listMails(deps.db, request.query);
        return { items: page.items.map(toView), nextCursor: page.nextCursor };
      },
    );
  };
}
