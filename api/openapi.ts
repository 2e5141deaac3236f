/**
 * /openapi.json (OpenAPI 3.1) and /docs (Swagger UI), generated from the routes' zod schemas.
 * Call on the root instance before the routes: @fastify/swagger collects them as they are added,
 * and only sees routes of the context it is registered in.
 *
 * A route declares its success answers and the refusals only it gives (a taken id, a state that
 * does not allow the command, a rule that says no). What every route of a kind can answer is added
 * here from the route's shape, so no route can leave it out (docs/architecture.md "Errors"):
 * 400 when it reads params, a query, a body or an Idempotency-Key; 401/403 and 503 when it needs a
 * key (the key is looked up in Postgres); 404 when a path names a resource; 409 (idempotency) when
 * it changes state; 413/415 when it takes a body. Public routes declare no security.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UNSTORABLE_TEXT_MESSAGE } from '../domain/text.ts';
import { ErrorBody } from './schemas.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const GENERIC_REFUSALS: Record<number, string> = {
  400: `INVALID_REQUEST: malformed JSON, a schema violation or text that ${UNSTORABLE_TEXT_MESSAGE.replace('must not contain', 'contains')}; details name the field`,
  401: 'UNAUTHENTICATED: missing, unknown or revoked API key',
  403: 'FORBIDDEN_ACTOR: a key of another principal (client, operator, viewer) than the route admits, or a party not allowed this action',
  404: 'NOT_FOUND: unknown, or not visible to this caller (ids of others never leak)',
  409: 'IDEMPOTENCY_CONFLICT (the Idempotency-Key was used with another request) or IDEMPOTENCY_IN_PROGRESS',
  413: 'PAYLOAD_TOO_LARGE: a body over 1 MiB',
  415: 'UNSUPPORTED_MEDIA_TYPE: a body in another content type than the route takes',
  429: 'BUSY: more commands in flight than the stack serves at once; nothing was started or recorded — retry after the seconds in the Retry-After header (with the same Idempotency-Key)',
  503: 'UNAVAILABLE: Postgres or Temporal did not answer; the outcome is unknown, retry with the same Idempotency-Key',
};

/** The statuses a route can answer whatever it does, by its shape. */
export function genericStatuses(route: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>): number[] {
  const method = [route.method].flat()[0]!.toUpperCase();
  const schema = (route.schema ?? {}) as FastifySchema;
  const authenticated = (route.config?.audience ?? 'public') !== 'public';
  const changes = authenticated && STATE_CHANGING.has(method);
  const statuses: number[] = [];
  if (schema.params || schema.querystring || schema.body || changes) statuses.push(400);
  if (authenticated) statuses.push(401, 403);
  if (route.url.includes(':')) statuses.push(404);
  if (changes) statuses.push(409);
  if (method !== 'GET') statuses.push(413, 415);
  if (route.config?.admission) statuses.push(429);
  if (authenticated) statuses.push(503);
  return statuses;
}

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/)
    .optional()
    .describe('1–255 visible ASCII characters; the same key and request answer the recorded response for 24 h (per principal)'),
});

/** The route's schema as the document shows it: its own answers plus the generic ones. */
function documented(schema: FastifySchema, route: RouteOptions): FastifySchema {
  const authenticated = (route.config?.audience ?? 'public') !== 'public';
  const own = (schema.response ?? {}) as Record<string, unknown>;
  const response: Record<string, unknown> = { ...own };
  for (const status of genericStatuses(route)) {
    const text = GENERIC_REFUSALS[status]!;
    const declared = own[String(status)] as z.ZodType | undefined;
    response[String(status)] = declared ? declared.describe(declared.description ? `${declared.description}; or ${text}` : text) : ErrorBody.describe(text);
  }
  const changes = authenticated && STATE_CHANGING.has([route.method].flat()[0]!.toUpperCase());
  return {
    ...schema,
    response,
    ...(changes && !schema.headers ? { headers: IdempotencyHeaders } : {}),
    ...(authenticated ? {} : { security: [] }),
  };
}

export function registerOpenApi(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Cross-client connections',
        version: '0.1.0',
        description:
          'Connections between clients, as durable workflows. Errors are `{error: {code, message, details?}}`; ' +
          'state-changing calls accept an `Idempotency-Key` header (kept 24 h per principal). ' +
          `Strings ${UNSTORABLE_TEXT_MESSAGE}: such a request is 400 naming the field. ` +
          'Text fields marked "trimmed" lose leading and trailing whitespace and must hold a non-space character. ' +
          'A method a path does not declare is 405 `METHOD_NOT_ALLOWED` with `Allow`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: (input) => {
      if (!input.schema || input.route.config?.methodNotAllowed) return jsonSchemaTransform(input);
      return jsonSchemaTransform({ ...input, schema: documented(input.schema, input.route) });
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
