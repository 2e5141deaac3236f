/**
 * Client routes for connections: invite, read, and one route per declared command
 * (machines/connection.commands.ts). The acting client is the key's principal, never a body
 * field. Thin: validate, then connection.service.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { getConnectionHistory, listConnections, toConnectionView } from '../../db/connection.repository.ts';
import type { ConnectionView } from '../../domain/connection.ts';
import { commandNames } from '../../machines/commands.ts';
import { connectionCommands, type ConnectionCommandName } from '../../machines/connection.commands.ts';
import { requirePrincipal } from '../auth.ts';
import { invite, runCommand, visibleConnection, type ConnectionServiceDeps } from '../connection.service.ts';
import { mintedIdOf, registerIdempotency, updateIdOf } from '../idempotency.ts';
import { withZod } from '../validation.ts';
import {
  Connection,
  ConnectionList,
  ConnectionWithHistory,
  CreateConnectionBody,
  ErrorBody,
  IdParam,
  ListConnectionsQuery,
} from '../schemas.ts';

const tags = ['connections'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 503: ErrorBody };

function callerOf(request: FastifyRequest): string {
  if (request.principal.kind !== 'client') throw new Error('client routes run only for client principals');
  return request.principal.clientId;
}

/** The API shape: rejection details stay internal (a rejected invitation is answered as an error). */
function present(view: ConnectionView): z.infer<typeof Connection> {
  const { rejection: _rejection, ...rest } = view;
  return rest;
}

export function connectionRoutes(deps: ConnectionServiceDeps) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    app.addHook('onRequest', requirePrincipal(deps.db, 'client'));
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/connections',
      { schema: { tags, summary: 'Invite a client (the caller is the source)', body: CreateConnectionBody, response: { 201: Connection, ...errors } } },
      async (request, reply) => {
        const body = request.body;
        const view = await invite(deps, {
          sourceClientId: callerOf(request),
          targetClientId: body.targetClientId,
          offerAccess: body.offerAccess,
          callback: body.callback,
          connectionId: mintedIdOf(request),
          updateId: updateIdOf(request),
        });
        return reply.code(201).send(present(view));
      },
    );

    app.get(
      '/v1/connections',
      { schema: { tags, summary: 'Connections of the caller, newest first', querystring: ListConnectionsQuery, response: { 200: ConnectionList, ...errors } } },
      async (request) => {
        const page = await listConnections(deps.db, { clientId: callerOf(request), ...request.query });
        return { items: page.items.map((row) => present(toConnectionView(row))), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/connections/:id',
      { schema: { tags, summary: 'One connection with its history', params: IdParam, response: { 200: ConnectionWithHistory, ...errors } } },
      async (request) => {
        const row = await visibleConnection(deps.db, request.params.id, callerOf(request));
        const history = await getConnectionHistory(deps.db, row.id);
        return {
          ...present(toConnectionView(row)),
          history: history.map((h) => ({ event: h.event, actor: h.actor, at: h.at.toISOString(), from: h.from_status, to: h.to_status })),
        };
      },
    );

    // One route per declared command: its method, path, body and summary come from the declaration.
    for (const name of commandNames(connectionCommands)) commandRoute(app, deps, name);
  };
}

function commandRoute(app: FastifyInstance, deps: ConnectionServiceDeps, name: ConnectionCommandName): void {
  const spec = connectionCommands[name];
  const body: z.ZodObject | undefined = 'body' in spec ? spec.body : undefined;
  withZod(app).route({
    method: spec.http.method,
    url: `/v1/connections/:id${spec.http.path}`,
    schema: { tags, summary: `${spec.summary} (${spec.who})`, params: IdParam, ...(body ? { body } : {}), response: { 200: Connection, ...errors } },
    handler: async (request) => {
      const view = await runCommand(deps, {
        connectionId: request.params.id,
        callerClientId: callerOf(request),
        name,
        fields: (request.body ?? {}) as never, // checked against this command's body schema by the route
        updateId: updateIdOf(request),
      });
      return present(view);
    },
  });
}
