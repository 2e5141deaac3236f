/**
 * Rule sets (docs/architecture.md "HTTP API", issue 3): publish a YAML rule set — checked completely, stored by
 * content hash, made the one active version — and read the active one. Running connections keep
 * the version they were started with until an operator sends them `upgradeRules`.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { getActiveRuleSet } from '../../db/rule-set.repository.ts';
import type { Database } from '../../db/schema.ts';
import { ErrorCode } from '../../domain/errors.ts';
import { publishRuleSetSource, RuleSetRejectedError } from '../rule-set.service.ts';
import type { RulesError, RulesWarning } from '../../rules/errors.ts';
import { actorOf, authenticateRoutes } from '../auth.ts';
import { ApiError, ApiOnlyCode } from '../errors.ts';
import { registerIdempotency } from '../idempotency.ts';
import { refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['operator'];
// YAML is accepted on these routes only; every other route stays JSON-only.
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const Located = z.object({
  code: z.string(), message: z.string(), line: z.number().int(), column: z.number().int(), endLine: z.number().int(),
  endColumn: z.number().int(), hint: z.string().optional(), excerpt: z.string(),
});
const Published = z.object({ version: z.string(), name: z.string(), warnings: z.array(Located).describe('published anyway; e.g. a mailing event the rule set does not route sends no mail') });
/** What a caller needs of an error or warning: no file name (it sent a body, not a file). */
const brief = ({ code, message, line, column, endLine, endColumn, hint, excerpt }: RulesError | RulesWarning) =>
  ({ code, message, line, column, endLine, endColumn, hint, excerpt });
/** The YAML document; a body of only whitespace is no rule set. */
const RuleSetSource = z
  .string()
  .regex(/\S/, 'send the rule set as a YAML body (Content-Type: application/yaml)')
  .describe('a rule set in YAML (docs/rules.md)');
const Active = z.object({ version: z.string(), name: z.string().nullable(), source: z.string(), activatedAt: z.string().nullable() });

export function ruleSetRoutes(deps: { db: Kysely<Database> }) {
  const { db } = deps;
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, db, 'operator');
    app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));
    registerIdempotency(app, db);

    app.post(
      '/v1/rule-sets',
      {
        schema: {
          tags,
          summary: 'Publish a rule set (YAML): checked, stored by content hash, made active',
          consumes: YAML_TYPES,
          body: RuleSetSource,
          response: { 201: Published, 422: refusal('RULE_SET_INVALID: the rule set has errors (details.errors, each with line and column); nothing was published') },
        },
        // After authentication, before the body is read: any other content type is 415.
        onRequest: async (request) => {
          if (!YAML_TYPES.includes(request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? '')) {
            throw new ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'a rule set is sent as YAML (Content-Type: application/yaml)');
          }
        },
      },
      async (request, reply) => {
        try {
          const { ruleSet, warnings } = await publishRuleSetSource(db, request.body, 'rule-set.yaml', actorOf(request));
          return reply.code(201).send({ version: ruleSet.hash, name: ruleSet.name, warnings: warnings.map(brief) });
        } catch (err) {
          if (!(err instanceof RuleSetRejectedError)) throw err;
          throw new ApiError(ApiOnlyCode.RULE_SET_INVALID, `the rule set has ${err.errors.length} error(s); nothing was published`, {
            errors: err.errors.map(brief),
          });
        }
      },
    );

    app.get('/v1/rule-sets/active', { schema: { tags, summary: 'The active rule set', response: { 200: Active, 404: refusal('NOT_FOUND: no rule set is active') } } }, async () => {
      const active = await getActiveRuleSet(db);
      if (!active) throw new ApiError(ErrorCode.NOT_FOUND, 'no rule set is active');
      return { version: active.version, name: active.name, source: active.source, activatedAt: active.activatedAt?.toISOString() ?? null };
    });
  };
}
