/**
 * GET /v1/audit (docs/architecture.md "Audit log"): who published or upgraded rule sets, switched
 * modules, created or revoked keys, marked payout rows PAID — for operators and the viewer. The
 * log has no route that changes it: entries are appended by the changes themselves, in their
 * transactions, and the table refuses UPDATE and DELETE.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { listAuditEntries } from '../../db/audit.repository.ts';
import type { Database } from '../../db/schema.ts';
import { AUDIT_ACTIONS } from '../../domain/audit.ts';
import { authenticateRoutes } from '../auth.ts';
import { IsoInstant } from '../schemas.ts';
import { withZod } from '../validation.ts';


export const AuditQuery = z.strictObject({
  actor: z.string().min(1).max(100).optional().describe('a principal (`operator`, `client:<id>`, `cli:<user>`, `system`) or a key id'),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: IsoInstant.optional().describe('at ≥ from (ISO 8601 with offset)'),
  to: IsoInstant.optional().describe('at < to (ISO 8601 with offset)'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const AuditEntry = z.object({
  id: z.string(),
  at: z.string().describe('when the change committed: the time of its transaction'),
  actor: z.string().describe('who: `operator`, `client:<id>`, `cli:<os user>` (the CLI, with database access) or `system` (the stack itself)'),
  keyId: z.string().nullable().describe('the API key used; null for the CLI and the stack'),
  action: z.enum(AUDIT_ACTIONS),
  subject: z.string().nullable().describe('what it was done to: a rule-set version, a workflow id, `<company>/<module>`, a key id, a payout row id'),
  details: z.record(z.string(), z.unknown()),
});
const AuditPage = z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() });

export function auditRoutes(deps: { db: Kysely<Database> }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'operator');
    app.get(
      '/v1/audit',
      { schema: { tags: ['operator'], summary: 'The audit log, newest first (operator, viewer)', querystring: AuditQuery, response: { 200: AuditPage } } },
      async (request) => listAuditEntries(deps.db, request.query),
    );
  };
}
