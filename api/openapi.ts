/**
 * /openapi.json (the document) and /docs (Swagger UI), generated from the routes' zod schemas.
 * Call on the root instance before the routes: @fastify/swagger collects them as they are added,
 * and only sees routes of the context it is registered in.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export function registerOpenApi(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Cross-client connections',
        version: '0.1.0',
        description:
          'Connections between clients, as durable workflows. Errors are `{error: {code, message, details?}}`; ' +
          'state-changing calls accept an `Idempotency-Key` header (kept 24 h per principal).',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
