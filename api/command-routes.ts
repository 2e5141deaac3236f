/**
 * One HTTP route per declared command of a machine (machines/commands.ts): method, path, body
 * schema and OpenAPI summary come from the declaration; the caller of `commandRoutes` only says
 * how to run a command. The acting client is the key's principal.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { commandNames, type CommandSpec, type CommandTable } from '../machines/commands.ts';
import { callerOf } from './auth.ts';
import { updateIdOf } from './idempotency.ts';
import { IdParam, refusal } from './schemas.ts';
import { withZod } from './validation.ts';

/** What a command can be refused with besides the generic answers (api/openapi.ts). */
export const commandErrors = {
  409: refusal('INVALID_TRANSITION: not allowed in the current state'),
  422: refusal('the domain or the rule set says no: CONTRACT_MODULE_INACTIVE, RULE_REJECTED (details.rule), ITEM_UNAVAILABLE, CURRENCY_MISMATCH'),
};

export interface CommandCall<T extends CommandTable> {
  id: string;
  callerClientId: string;
  name: keyof T & string;
  /** The HTTP body as the route's schema checked it (empty for commands without one). */
  body: Record<string, unknown>;
  updateId: string;
}


export function commandRoutes<T extends CommandTable>(
  app: FastifyInstance,
  options: { resource: string; tags: string[]; table: T; response: z.ZodType; run: (call: CommandCall<T>) => Promise<unknown> },
): void {
  for (const name of commandNames(options.table)) {
    const spec: CommandSpec = options.table[name]!;
    withZod(app).route({
      method: spec.http.method,
      url: `${options.resource}/:id${spec.http.path}`,
      schema: {
        tags: options.tags,
        summary: `${spec.summary} (${spec.who})`,
        params: IdParam,
        ...(spec.body ? { body: spec.body } : {}),
        response: { 200: options.response, ...commandErrors },
      },
      handler: (request) =>
        options.run({
          id: request.params.id,
          callerClientId: callerOf(request),
          name,
          body: (request.body ?? {}) as Record<string, unknown>,
          updateId: updateIdOf(request),
        }),
    });
  }
}
