/**
 * Client routes for connections (api.md "Client: connections"). The acting client is the key's
 * principal, never a body field. Thin: validate, then connection.service.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { getConnectionHistory, listConnections, toConnectionView } from '../../db/connection.repository.ts';
import type { ConnectionView } from '../../workflows/messages.ts';
import { requirePrincipal } from '../auth.ts';
import { invite, runCommand, visibleConnection, type CommandName, type ConnectionServiceDeps } from '../connection.service.ts';
import { mintedIdOf, registerIdempotency, updateIdOf } from '../idempotency.ts';
import {
  Connection,
  ConnectionList,
  ConnectionWithHistory,
  CreateConnectionBody,
  ErrorBody,
  IdParam,
  ListConnectionsQuery,
  PatchConnectionBody,
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
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook('onRequest', requirePrincipal(deps.db, 'client'));
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/connections',
      { schema: { tags, summary: 'Invite a client (the caller is the source)', body: CreateConnectionBody, response: { 201: Connection, ...errors } } },
      async (request, reply) => {
        const body = request.body as z.infer<typeof CreateConnectionBody>;
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
        const query = request.query as z.infer<typeof ListConnectionsQuery>;
        const page = await listConnections(deps.db, { clientId: callerOf(request), ...query });
        return { items: page.items.map((row) => present(toConnectionView(row))), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/connections/:id',
      { schema: { tags, summary: 'One connection with its history', params: IdParam, response: { 200: ConnectionWithHistory, ...errors } } },
      async (request) => {
        const { id } = request.params as z.infer<typeof IdParam>;
        const row = await visibleConnection(deps.db, id, callerOf(request));
        const history = await getConnectionHistory(deps.db, row.id);
        return {
          ...present(toConnectionView(row)),
          history: history.map((h) => ({ event: h.event, actor: h.actor, at: h.at.toISOString(), from: h.from_status, to: h.to_status })),
        };
      },
    );

    const command = (name: CommandName, offerAccess?: (request: FastifyRequest) => boolean) => async (request: FastifyRequest) => {
      const { id } = request.params as z.infer<typeof IdParam>;
      const view = await runCommand(deps, {
        connectionId: id,
        callerClientId: callerOf(request),
        name,
        offerAccess: offerAccess?.(request),
        updateId: updateIdOf(request),
      });
      return present(view);
    };

    const commandRoutes: [Exclude<CommandName, 'setOfferAccess'>, string][] = [
      ['accept', 'Accept an invitation (target)'],
      ['decline', 'Decline an invitation (target)'],
      ['withdraw', 'Withdraw an invitation (source)'],
      ['block', 'Block an active connection (either party)'],
      ['unblock', 'Unblock (only the party that blocked)'],
      ['end', 'End the connection (either party)'],
    ];
    for (const [name, summary] of commandRoutes) {
      app.post(`/v1/connections/:id/${name}`, { schema: { tags, summary, params: IdParam, response: { 200: Connection, ...errors } } }, command(name));
    }

    app.patch(
      '/v1/connections/:id',
      { schema: { tags, summary: 'Switch offer access (source)', params: IdParam, body: PatchConnectionBody, response: { 200: Connection, ...errors } } },
      command('setOfferAccess', (request) => (request.body as z.infer<typeof PatchConnectionBody>).offerAccess),
    );
  };
}
