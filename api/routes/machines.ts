/**
 * The /machines page (docs/architecture.md "The /machines page") and its read-only endpoints:
 * the machines drawn from their definitions with a rule set's guards and mails on the edges, a
 * simulator that applies one event with the product's own pure code, and the live view of one
 * connection or cart. The page, its script and its style are files of this package: the page
 * loads nothing from another host (its Content-Security-Policy says so too).
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { listRuleSetVersions } from '../../db/rule-set.repository.ts';
import type { Database } from '../../db/schema.ts';
import { CART_STATUSES } from '../../domain/cart.ts';
import { MACHINE_NAMES } from '../../machines/catalog.ts';
import { cartCommands } from '../../machines/cart.commands.ts';
import { connectionCommands } from '../../machines/connection.commands.ts';
import { CONNECTION_STATUSES } from '../../domain/connection.ts';
import { authenticateRoutes } from '../auth.ts';
import { liveView } from '../machine-live.service.ts';
import { simulateCart, simulateConnection } from '../machine-simulator.ts';
import { describeMachine, rulesOfVersion } from '../machines.service.ts';
import { refusal } from '../schemas.ts';
import { withZod } from '../validation.ts';

const tags = ['machines'];
const page = (file: string) => readFileSync(new URL(`../machines-page/${file}`, import.meta.url), 'utf8');
const ASSETS = {
  '/machines': { type: 'text/html; charset=utf-8', body: page('machines.html') },
  '/machines/machines.js': { type: 'text/javascript; charset=utf-8', body: page('machines.js') },
  '/machines/machines.css': { type: 'text/css; charset=utf-8', body: page('machines.css') },
};
/** Only this origin; inline styles for the drawings' own <style>; images from data: (the favicon). */
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

const Version = z.string().regex(/^[0-9a-f]{64}$/).describe('a published rule-set version (sha256 of its source)');
const VersionQuery = z.strictObject({ ruleSetVersion: Version.optional().describe('default: the active rule set') });
const Rule = z.object({ id: z.string(), code: z.string(), message: z.string().describe('as written; `{{ … }}` parts are evaluated when it refuses') });
const Edge = z.object({
  id: z.string(), from: z.string(), to: z.string(), event: z.string(), guard: z.string().nullable(), actions: z.array(z.string()),
  notify: z.boolean(), automatic: z.boolean(), rules: z.array(Rule), mail: z.string().nullable(),
});
const Machine = z.object({
  name: z.enum(MACHINE_NAMES),
  initial: z.string(),
  states: z.array(z.object({ key: z.string(), final: z.boolean(), initial: z.boolean() })),
  roles: z.array(z.string()),
  commands: z.array(z.object({ name: z.string(), summary: z.string(), who: z.string(), guarded: z.boolean(), mails: z.boolean() })),
  edges: z.array(Edge),
  svg: z.string().describe('the machine drawn as SVG, rules and mails on the edges'),
  mermaid: z.string(),
});
const Machines = z.object({
  ruleSet: z.object({ version: z.string(), name: z.string(), active: z.boolean() }),
  versions: z.array(z.object({ version: z.string(), name: z.string().nullable(), active: z.boolean(), createdAt: z.string() })),
  machines: z.array(Machine),
});

const Actor = z.enum(['source', 'target', 'seller', 'stranger', 'system']).describe('who sends the event; `system` for the workflow\'s timer or the fan-out');
const Refused = z.object({ by: z.enum(['machine', 'rule']), code: z.string(), message: z.string(), rule: z.string().nullable() });
const simulated = <S extends z.ZodType>(scenario: S) =>
  z.object({
    outcome: z.enum(['moved', 'refused']),
    from: z.string(),
    to: z.string(),
    refusal: Refused.nullable(),
    effects: z.array(z.string()),
    mails: z.array(z.object({ template: z.string(), to: z.string() })),
    scenario,
  });
const ConnectionScenario = z.strictObject({
  sameCompany: z.boolean(),
  sourceModuleActive: z.boolean(),
  targetModuleActive: z.boolean(),
  hasCallback: z.boolean(),
  offerAccess: z.boolean(),
  blockedBy: z.enum(['source', 'target']).nullable(),
});
const CartScenario = z.strictObject({ externalItem: z.boolean(), externalAvailable: z.boolean() });
const ConnectionSimulation = z.strictObject({
  ruleSetVersion: Version.optional(),
  state: z.enum(['screening', ...CONNECTION_STATUSES]),
  event: z.enum(['invite', 'expire', ...(Object.keys(connectionCommands) as Array<keyof typeof connectionCommands>)]),
  actor: Actor,
  scenario: ConnectionScenario,
  offerAccess: z.boolean().optional().describe('setOfferAccess: the value asked for (default: the other one)'),
});
const CartSimulation = z.strictObject({
  ruleSetVersion: Version.optional(),
  state: z.enum(CART_STATUSES),
  event: z.enum(['availabilityChanged', ...(Object.keys(cartCommands) as Array<keyof typeof cartCommands>)]),
  actor: Actor,
  scenario: CartScenario,
  available: z.boolean().optional().describe('availabilityChanged: whether the external item can be sold now (default: the opposite of before)'),
});
const unknownVersion = refusal('NOT_FOUND: no rule set of that version was ever published');

const LiveParams = z.strictObject({
  id: z.string().min(1).max(200).describe('a connection or cart id, or a workflow id (`connection:<source>:<target>`, `cart:<seller>:<cartId>`)'),
});
const Live = z.object({
  kind: z.enum(['connection', 'cart']),
  id: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  runStatus: z.string(),
  temporalUiUrl: z.string().nullable().describe('the run in the Temporal UI; null when no UI is configured'),
  state: z.object({ value: z.string(), context: z.record(z.string(), z.unknown()), version: z.number(), ruleSetVersion: z.string().nullable() }).describe('exactly what the workflow\'s `state` query answers'),
  pinnedRuleSet: z.object({ version: z.string(), name: z.string() }).nullable().describe('the rule set this connection or cart is pinned to; null when that version was never published here (`warnings` says so)'),
  activeRuleSetVersion: z.string().nullable(),
  svg: z.string().describe('the machine drawn with the pinned rule set\'s rules and mails on the edges (none when that set is unknown here)'),
  warnings: z.array(z.string()).describe('what this answer could not check, in words'),
  possible: z.array(z.object({
    event: z.string(), role: z.string(), clientId: z.string().nullable(), allowed: z.boolean(),
    guards: z.enum(['checked', 'unknown', 'none']).describe('the pinned rules\' guards of a `guarded` command: checked, or unknown (rule set or facts missing here: `allowed` is the machine\'s word alone); none: no guards, or the machine refused first'),
    refusal: z.object({ code: z.string(), message: z.string(), rule: z.string().nullable() }).nullable(),
  })).describe('each event as each party would send it now'),
  history: z.array(z.object({ at: z.string(), event: z.string(), actor: z.string().nullable(), from: z.string().nullable(), to: z.string().nullable() })),
});

export interface MachineRouteDeps {
  db: Kysely<Database>;
  temporal: { client: Client; namespace: string };
  temporalDeadlineMs: number;
  temporalUiUrl?: string | undefined;
}

export function machineRoutes(deps: MachineRouteDeps) {
  const { db } = deps;
  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = withZod(instance);
    for (const [url, asset] of Object.entries(ASSETS)) {
      app.get(url, { schema: { hide: true } }, async (_request, reply) =>
        reply.header('content-type', asset.type).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(asset.body));
    }

    // Policy, not client data: no key needed.
    app.get(
      '/v1/machines',
      { schema: { tags, summary: 'The machines drawn from their definitions, with a rule set\'s guards and mails on the edges', security: [], querystring: VersionQuery, response: { 200: Machines, 404: unknownVersion } } },
      async (request) => {
        const { ruleSet, active } = await rulesOfVersion(db, request.query.ruleSetVersion);
        const versions = await listRuleSetVersions(db);
        return {
          ruleSet: { version: ruleSet.hash, name: ruleSet.name, active },
          versions: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
          machines: MACHINE_NAMES.map((name) => describeMachine(name, ruleSet)),
        };
      },
    );
    app.post(
      '/v1/machines/connection/simulate',
      { schema: { tags, summary: 'Apply one event to the connection machine in a state, as an actor (read-only: no workflow is touched)', security: [], body: ConnectionSimulation, response: { 200: simulated(ConnectionScenario), 404: unknownVersion } } },
      async (request) => simulateConnection((await rulesOfVersion(db, request.body.ruleSetVersion)).evaluator, request.body),
    );
    app.post(
      '/v1/machines/cart/simulate',
      { schema: { tags, summary: 'Apply one event to the cart machine in a state, as an actor (read-only: no workflow is touched)', security: [], body: CartSimulation, response: { 200: simulated(CartScenario), 404: unknownVersion } } },
      async (request) => simulateCart((await rulesOfVersion(db, request.body.ruleSetVersion)).evaluator, request.body),
    );

    // Live data: any key, narrowed to what it may see (a client its own, the viewer and operator all).
    await app.register(async (readers) => {
      const r = withZod(readers);
      authenticateRoutes(r, db, 'reader');
      r.get(
        '/v1/machines/live/:id',
        { schema: { tags, summary: 'A connection or cart live: state as its workflow answers, possible events, history, pinned rule set (a client: its own)', params: LiveParams, response: { 200: Live } } },
        async (request) => liveView(deps, request.params.id, request.principal),
      );
    });
  };
}
