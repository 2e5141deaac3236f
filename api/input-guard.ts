/**
 * Strings PostgreSQL cannot store (domain/text.ts) in a request are 400 naming the field, before
 * any route code runs (docs/architecture.md "Errors"), instead of a 500 from the database or a
 * silently altered value.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../domain/errors.ts';
import { UNSTORABLE_TEXT as UNSTORABLE, UNSTORABLE_TEXT_MESSAGE as UNSTORABLE_MESSAGE } from '../domain/text.ts';
import { ApiError } from './errors.ts';

/** The path of the first string (or object key) in `value` that PostgreSQL cannot store. */
export function findUnstorable(value: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return [...path, key];
      const found = findUnstorable(child, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/** 400 INVALID_REQUEST in the shape of a schema violation: `details.issues[0].field` names it. */
export function unstorableError(location: string, path: (string | number)[]): ApiError {
  const field = path.length > 0 ? path.map(String).join('.') : location;
  return new ApiError(ErrorCode.INVALID_REQUEST, `invalid ${location}: ${field}: ${UNSTORABLE_MESSAGE}`, {
    location,
    issues: [{ field, message: UNSTORABLE_MESSAGE }],
  });
}

/**
 * Checks what a route reads — the parts its schema declares (params, querystring, body) — before
 * the schemas and the handler run. What a route does not declare it never reads.
 */
export function refuseUnstorableInput(app: FastifyInstance): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const schema = request.routeOptions.schema;
    if (!schema) return;
    const parts = [
      ['params', schema.params, request.params],
      ['querystring', schema.querystring, request.query],
      ['body', schema.body, request.body],
    ] as const;
    for (const [location, declared, value] of parts) {
      const path = declared ? findUnstorable(value) : undefined;
      if (path) throw unstorableError(location, path);
    }
  });
}
