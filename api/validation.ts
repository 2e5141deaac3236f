/**
 * Zod as Fastify's validator, through fastify-type-provider-zod: route schemas are zod schemas,
 * violations become 400 INVALID_REQUEST naming the fields (errors.ts), and the same schemas become
 * JSON Schema for /openapi.json (openapi.ts).
 */
import type { FastifyInstance, FastifyRequest, FastifySchema, RawRequestDefaultExpression, RawServerDefault, RouteGenericInterface } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

export { invalidRequest } from './errors.ts';
export type { ZodTypeProvider };

export function useZod(app: FastifyInstance): void {
  app.setValidatorCompiler((route) => {
    // Fail at startup, not on every request, when a route carries a plain JSON schema.
    if (!(route.schema instanceof z.ZodType)) throw new Error(`route schemas must be zod schemas (${route.url} ${route.httpPart ?? ''})`);
    return validatorCompiler({ ...route, schema: route.schema });
  });
  // Response schemas are documentation only: views may carry internal fields the routes strip.
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
}

/** The same instance, with request.body/params/query (and reply.send) typed from the route's schemas. */
export const withZod = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>();

/** A request typed from schema parts, for a handler shared by several routes. */
export type ZodRequest<S extends FastifySchema> = FastifyRequest<RouteGenericInterface, RawServerDefault, RawRequestDefaultExpression, S, ZodTypeProvider>;
