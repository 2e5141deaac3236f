/**
 * Zod as Fastify's validator: route schemas are zod schemas, violations become 400
 * INVALID_REQUEST naming the fields, and the same schemas become JSON Schema for /openapi.json.
 * Response schemas are documentation only (serialized with plain JSON.stringify).
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';
import { ErrorCode } from '../workflows/errors.ts';
import { ApiError } from './errors.ts';

const isZod = (value: unknown): value is z.ZodType => value instanceof z.ZodType;

export function invalidRequest(location: string, error: z.ZodError): ApiError {
  const field = (path: PropertyKey[]) => (path.length > 0 ? path.map(String).join('.') : location);
  // An unknown key is named as the field itself, so "details name the field" holds for typos too.
  const issues = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: field([...issue.path, key]), message: 'unknown field' }))
      : [{ field: field(issue.path), message: issue.message }],
  );
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return new ApiError(ErrorCode.INVALID_REQUEST, `invalid ${location}: ${summary}`, { location, issues });
}

export function useZod(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (!isZod(schema)) throw new Error(`route schemas must be zod schemas (${httpPart ?? 'unknown part'})`);
    return (data: unknown) => {
      const result = schema.safeParse(data);
      return result.success ? { value: result.data } : { error: invalidRequest(httpPart ?? 'request', result.error) };
    };
  });
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
}

const toJson = (schema: unknown, io: 'input' | 'output') =>
  isZod(schema) ? z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) : schema;

/** @fastify/swagger `transform`: zod → JSON Schema (request parts as input, responses as output). */
export function zodToOpenApi({ schema, url }: { schema: FastifySchema; url: string }): { schema: FastifySchema; url: string } {
  if (!schema) return { schema, url };
  const { body, querystring, params, headers, response, ...rest } = schema as Record<string, unknown>;
  const converted: Record<string, unknown> = { ...rest };
  if (body !== undefined) converted.body = toJson(body, 'input');
  if (querystring !== undefined) converted.querystring = toJson(querystring, 'input');
  if (params !== undefined) converted.params = toJson(params, 'input');
  if (headers !== undefined) converted.headers = toJson(headers, 'input');
  if (response && typeof response === 'object') {
    converted.response = Object.fromEntries(Object.entries(response).map(([code, s]) => [code, toJson(s, 'output')]));
  }
  return { schema: converted as FastifySchema, url };
}
