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
import { isUuid } from '../../domain/ids.ts';
import { previewRuleSet, PREVIEW_DEFAULTS } from '../rule-set-preview.service.ts';
import {
  activateRuleSetVersion, PreviewMismatchError, PreviewNotFoundError, PreviewStaleError, publishRuleSetSource, RuleSetNotFoundError, RuleSetRejectedError,
} from '../rule-set.service.ts';
import type { RulesError, RulesWarning } from '../../rules/errors.ts';
import { actorOf, authenticateRoutes } from '../auth.ts';
import { ApiError, ApiOnlyCode } from '../errors.ts';
import { registerIdempotency } from '../idempotency.ts';
import { fieldRuleRejected, IsoInstant, PathId, refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['operator'];
// YAML is accepted on these routes only; every other route stays JSON-only.
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const Located = z.object({
  code: z.string(), message: z.string(), line: z.number().int(), column: z.number().int(), endLine: z.number().int(),
  endColumn: z.number().int(), hint: z.string().optional(), excerpt: z.string(),
});
const Change = z.object({
  area: z.enum(['name', 'guard', 'timer', 'mail', 'payout']),
  change: z.enum(['added', 'removed', 'changed', 'reordered']),
  event: z.string().optional(),
  rule: z.string().optional(),
  text: z.string().describe('the change in words'),
});
const Changes = z.array(Change).describe('what changed against the version it replaced, in words (docs/rules.md "Changing policy safely")');
const Published = z.object({
  version: z.string(),
  name: z.string(),
  warnings: z.array(Located).describe('published anyway; e.g. a mailing event the rule set does not route sends no mail'),
  previousVersion: z.string().nullable().describe('the version it replaced as the active one'),
  changes: Changes,
});
const PublishQuery = z.strictObject({
  preview: z.string().max(100).optional().describe('the previewId of `POST /v1/rule-sets/preview`: publish only if this is the exact text previewed'),
});
const PreviewQuery = z.strictObject({
  budgetMs: z.coerce.number().int().min(0).max(300_000).default(PREVIEW_DEFAULTS.budgetMs).describe('stop reading after this long; the answer is then `partial`'),
  from: IsoInstant.optional().describe('payout window start (created_at ≥ from); default 30 days before `to`'),
  to: IsoInstant.optional().describe('payout window end (created_at < to); default now'),
});
const VerdictChange = z.object({
  id: z.string().describe('the connection or cart'),
  event: z.string().describe('the guard event whose verdict changes'),
  verdict: z.enum(['allowed', 'refused']).describe('what the draft answers'),
  rule: z.string().describe("the draft's refusing rule; for `allowed`, the rule that refused before"),
  code: z.string().nullable(),
  message: z.string().nullable(),
  ruleSetVersion: z.string().nullable().describe('the version it is pinned to, compared with the draft'),
  applies: z.enum(['next', 'admission']).describe('next: an event still ahead of it (upgrading changes what happens); admission: a step it already took (it stays, but the draft would not let it in like this today)'),
});
const Preview = z.object({
  previewId: z.string(),
  version: z.string().describe("the draft's version (content hash)"),
  name: z.string(),
  activeVersion: z.string().nullable(),
  partial: z.boolean().describe('the time budget ran out: the lists cover `scanned` only'),
  scanned: z.object({ connections: z.number().int(), carts: z.number().int(), payments: z.number().int() }),
  connections: z.array(VerdictChange),
  carts: z.array(VerdictChange),
  mails: z.array(z.object({ event: z.string(), current: z.string(), draft: z.string() })),
  timers: z.object({ invitationTtl: z.object({ current: z.string().nullable(), draft: z.string() }) }),
  payoutWindow: z.object({ from: z.string(), to: z.string() }),
  payouts: z.array(z.object({
    sourceClientId: z.string(), connectedClientId: z.string(), currency: z.string(), currentShareMinor: z.number().int(), draftShareMinor: z.number().int(),
    rows: z.number().int(), reversalRows: z.number().int().describe('of rows, refunds and chargebacks: taken back from both sums'),
    refusedRows: z.number().int().describe("rows the draft's payout rules fail for (counted 0 in draftShareMinor)"),
  })),
  changes: Changes,
  warnings: z.array(Located),
});
const Pinned = z.object({ count: z.number().int(), ids: z.array(z.string()).describe('the first 1000, by id') });
const Activated = z.object({
  version: z.string(),
  name: z.string().nullable(),
  previousVersion: z.string().nullable(),
  pinned: z.object({ connections: Pinned, carts: Pinned }).describe('open connections and carts still pinned to the version it replaced (`ccx rules upgrade` moves them)'),
  changes: Changes,
});
const VersionParam = z.object({ version: PathId });
/** What a caller needs of an error or warning: no file name (it sent a body, not a file). */
const brief = ({ code, message, line, column, endLine, endColumn, hint, excerpt }: RulesError | RulesWarning) =>
  ({ code, message, line, column, endLine, endColumn, hint, excerpt });
/** The YAML document; a body of only whitespace is no rule set. */
const RuleSetSource = z
  .string()
  .regex(/\S/, 'send the rule set as a YAML body (Content-Type: application/yaml)')
  .describe('a rule set in YAML (docs/rules.md)');
const Active = z.object({ version: z.string(), name: z.string().nullable(), source: z.string(), activatedAt: z.string().nullable() });

/** After authentication, before the body is read: any other content type is 415. */
async function yamlOnly(request: { headers: Record<string, string | string[] | undefined> }): Promise<void> {
  const type = request.headers['content-type'];
  if (!YAML_TYPES.includes((typeof type === 'string' ? type : '').split(';')[0]?.trim().toLowerCase() ?? '')) {
    throw new ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'a rule set is sent as YAML (Content-Type: application/yaml)');
  }
}

/** A rule set with errors is 422 with every error located; anything else goes on as it is. */
function rejected(err: unknown, outcome: string): unknown {
  if (!(err instanceof RuleSetRejectedError)) return err;
  return new ApiError(ApiOnlyCode.RULE_SET_INVALID, `the rule set has ${err.errors.length} error(s); ${outcome}`, { errors: err.errors.map(brief) });
}

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
          querystring: PublishQuery,
          response: {
            201: Published,
            404: refusal('NOT_FOUND: the preview named by `preview` does not exist'),
            422: refusal('RULE_SET_INVALID: the rule set has errors (details.errors, each with line and column); RULE_REJECTED (details.rule = preview-matches-draft: not the text previewed; preview-complete: the preview was partial; preview-current: another version became active since the preview). Nothing was published'),
          },
        },
        onRequest: yamlOnly,
      },
      async (request, reply) => {
        const previewId = request.query.preview;
        if (previewId !== undefined && !isUuid(previewId)) throw new ApiError(ErrorCode.NOT_FOUND, `no preview ${previewId}`);
        try {
          const published = await publishRuleSetSource(db, request.body, 'rule-set.yaml', actorOf(request), previewId === undefined ? {} : { previewId });
          const { ruleSet, warnings, previousVersion, changes } = published;
          return reply.code(201).send({ version: ruleSet.hash, name: ruleSet.name, warnings: warnings.map(brief), previousVersion, changes });
        } catch (err) {
          if (err instanceof PreviewNotFoundError) throw new ApiError(ErrorCode.NOT_FOUND, err.message);
          if (err instanceof PreviewMismatchError) throw fieldRuleRejected('preview-matches-draft', 'preview', `${err.message}; nothing was published`);
          if (err instanceof PreviewStaleError) throw fieldRuleRejected(err.rule, 'preview', `${err.message}; nothing was published`);
          throw rejected(err, 'nothing was published');
        }
      },
    );

    app.post(
      '/v1/rule-sets/preview',
      {
        schema: {
          tags,
          summary: 'Preview a draft rule set (YAML) against the live read model; read-only, stored with an id',
          consumes: YAML_TYPES,
          body: RuleSetSource,
          querystring: PreviewQuery,
          response: { 200: Preview, 422: refusal('RULE_SET_INVALID: the draft has errors (details.errors, each with line and column)') },
        },
        onRequest: yamlOnly,
      },
      async (request) => {
        const { budgetMs, from, to } = request.query;
        try {
          const result = await previewRuleSet(db, request.body, 'rule-set.yaml', {
            actor: actorOf(request), budgetMs, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}),
          });
          return { ...result, warnings: result.warnings.map(brief) };
        } catch (err) {
          throw rejected(err, 'nothing was previewed');
        }
      },
    );

    app.post(
      '/v1/rule-sets/:version/activate',
      {
        schema: {
          tags,
          summary: 'Make a published version the active one (roll back or forward); lists what stays pinned to the version it replaces',
          params: VersionParam,
          response: {
            200: Activated,
            404: refusal('NOT_FOUND: no rule set has this version'),
            422: refusal('RULE_SET_INVALID: the version breaks a rule every rule set keeps (details.errors)'),
          },
        },
      },
      async (request) => {
        try {
          return await activateRuleSetVersion(db, request.params.version, actorOf(request));
        } catch (err) {
          if (err instanceof RuleSetNotFoundError) throw new ApiError(ErrorCode.NOT_FOUND, err.message);
          throw rejected(err, 'nothing was activated');
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
