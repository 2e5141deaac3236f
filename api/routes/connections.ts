/**
 * Client routes for connections: invite, read, and one route per declared command
 * (machines/connection.commands.ts). The acting client is the key's principal, never a body
 * field. Thin: validate, then connection.service.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { getConnectionHistory, listConnections, toConnectionView } from '../../db/connection.repository.ts';
import type { ConnectionView } from '../../domain/connection.ts';
import { connectionCommands } from '../../machines/connection.commands.ts';
import { callerOf, authenticateRoutes } from '../auth.ts';
import { callbackUrlForTarget } from '../callback-url.ts';
import { commandRoutes } from '../command-routes.ts';
import { invite, runCommand, visibleConnection, type ConnectionServiceDeps } from '../connection.service.ts';
import { mintedIdOf, registerIdempotency, updateIdOf } from '../idempotency.ts';
import { withZod } from '../validation.ts';
import { registerAdmission, type AdmissionGate } from '../admission.ts';
import {
  Connection,
  ConnectionList,
  ConnectionWithHistory,
  CreateConnectionBody,
  IdParam,
  ListConnectionsQuery,
  refusal,
} from '../schemas.ts';

const tags = ['connections'];
const inviteErrors = {
  404: refusal('TARGET_NOT_FOUND: no such client'),
  409: refusal('CONNECTION_EXISTS: an open connection between these clients already exists'),
  422: refusal('SELF_CONNECTION, CONTRACT_MODULE_INACTIVE, RULE_REJECTED (details.rule)'),
};

/**
 * The API shape for the caller: rejection details stay internal (a rejected invitation is answered
 * as an error), and the target sees the source's callback URL without its query (docs/callbacks.md).
 */
export function present(view: ConnectionView, callerClientId: string): z.infer<typeof Connection> {
  const { rejection: _rejection, ...rest } = view;
  if (rest.callback && callerClientId !== rest.sourceClientId) rest.callback = { url: callbackUrlForTarget(rest.callback.url) };
  return rest;
}

export function connectionRoutes(deps: ConnectionServiceDeps & { admission: AdmissionGate }) {
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    authenticateRoutes(app, deps.db, 'client');
    registerAdmission(app, deps.admission); // before the Idempotency-Key is claimed: a 429 is never recorded
    registerIdempotency(app, deps.db);

    app.post(
      '/v1/connections',
      { schema: { tags, summary: 'Invite a client (the caller is the source)', body: CreateConnectionBody, response: { 201: Connection, ...inviteErrors } } },
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
        return reply.code(201).send(present(view, callerOf(request)));
      },
    );

    app.get(
      '/v1/connections',
      { schema: { tags, summary: 'Connections of the caller, newest first', querystring: ListConnectionsQuery, response: { 200: ConnectionList } } },
      async (request) => {
        const page = await listConnections(deps.db, { clientId: callerOf(request), ...request.query });
        return { items: page.items.map((row) => present(toConnectionView(row), callerOf(request))), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/connections/:id',
      { schema: { tags, summary: 'One connection with its history', params: IdParam, response: { 200: ConnectionWithHistory } } },
      async (request) => {
        const row = await visibleConnection(deps.db, request.params.id, callerOf(request));
        const history = await getConnectionHistory(deps.db, row.id);
        return {
          ...present(toConnectionView(row), callerOf(request)),
          history: history.map((h) => ({ event: h.event, actor: h.actor, at: h.at.toISOString(), from: h.from_status, to: h.to_status })),
        };
      },
    );

    // One route per declared command: its method, path, body and summary come from the declaration.
    commandRoutes(app, {
      resource: '/v1/connections',
      tags,
      table: connectionCommands,
      response: Connection,
      run: async (call) =>
        present(
          await runCommand(deps, {
            connectionId: call.id,
            callerClientId: call.callerClientId,
            name: call.name,
            fields: call.body as never, // checked against this command's body schema by the route
            updateId: call.updateId,
          }),
          call.callerClientId,
        ),
    });
  };
}
