/**
 * Connection commands as the API runs them: an invitation is pre-checked against the read model
 * with the same pure policy the workflow uses, then every call goes to Temporal with one deadline
 * (docs/architecture.md "Path of a command"). The API mints the connection id; workflow id
 * `connection:<src>:<tgt>` is the one-open-connection-per-pair lock.
 */
import { ApplicationFailure, WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { getPartyFacts } from '../db/client.repository.ts';
import { dropCallbackWithoutConnection, getCallback, storeCallback } from '../db/callback.repository.ts';
import { findOpenConnection, getConnection, toConnectionView } from '../db/connection.repository.ts';
import type { Database } from '../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import { checkInvitation } from '../rules/invitation.policy.ts';
import { searchAttributes } from '../temporal.config.ts';
import type { ConnectionView } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';
import type { CommandFields } from '../machines/commands.ts';
import type { ConnectionCommandName, ConnectionCommands } from '../machines/connection.commands.ts';
import { connectionWorkflow } from '../workflows/connection.workflow.ts';
import {
  connectionUpdates,
  connectionWorkflowId,
  invitationUpdate,
  type ConnectionWorkflowInput,
} from '../workflows/messages.ts';
import { activeRules } from './active-rules.ts';
import { checkCallbackUrl } from './callback-url.ts';
import { ApiError, outcomeUnknown } from './errors.ts';
import { encryptSecret } from './secrets.ts';
import { withTemporalDeadline } from './temporal-deadline.ts';

export interface ConnectionServiceDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string };
  secretKey: Buffer;
  temporalDeadlineMs: number;
  allowInsecureCallbacks: boolean;
}

export interface Invitation {
  sourceClientId: string;
  targetClientId: string;
  offerAccess: boolean;
  callback?: { url: string; secret: string };
  /** Minted by the API (or by the first attempt of an idempotent retry). */
  connectionId: string;
  updateId: string;
}

const notFound = () => new ApiError(ErrorCode.NOT_FOUND, 'connection not found');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


export async function invite(deps: ConnectionServiceDeps, inv: Invitation): Promise<ConnectionView> {
  const { db } = deps;
  if (inv.callback) checkCallbackUrl(inv.callback.url, deps.allowInsecureCallbacks);

  // A retry of an invitation whose first attempt took effect: answer with what was recorded
  // (before the pre-check, which would otherwise call our own connection a duplicate).
  const recorded = await getConnection(db, inv.connectionId);
  if (recorded && recorded.source_client_id === inv.sourceClientId) return finish(deps, inv, toConnectionView(recorded));

  const [source, target] = await Promise.all([
    getPartyFacts(db, inv.sourceClientId, CROSS_CLIENT_MODULE),
    getPartyFacts(db, inv.targetClientId, CROSS_CLIENT_MODULE),
  ]);
  if (!source) throw new ApiError(ErrorCode.UNAUTHENTICATED, 'the client of this key no longer exists');
  const facts = { source, target: target ?? null };
  const rules = await activeRules(db);
  const refusal = checkInvitation(
    { connectionId: inv.connectionId, ...facts, offerAccess: inv.offerAccess, hasCallback: inv.callback !== undefined },
    rules.evaluator,
  );
  if (refusal) throw new ApiError(refusal.code, refusal.message, refusal.details);
  if (await findOpenConnection(db, inv.sourceClientId, inv.targetClientId)) throw connectionExists();

  const input: ConnectionWorkflowInput = {
    connectionId: inv.connectionId,
    sourceClientId: inv.sourceClientId,
    targetClientId: inv.targetClientId,
    offerAccess: inv.offerAccess,
    callbackUrl: inv.callback?.url ?? null,
    // By version: the run reads it at start, and the Temporal UI's input stays short.
    ruleSetVersion: rules.ruleSet.hash,
    facts,
  };
  const summary = `${source.name} invites ${target?.name ?? inv.targetClientId}`;
  const pinned = { version: rules.ruleSet.hash, name: rules.ruleSet.name };
  // The secret first: once the invitation is recorded, the connection can sell, and every
  // callback it owes must find a secret to sign with (docs/decisions.md, issue 14).
  if (inv.callback) await storeCallback(db, inv.connectionId, inv.callback.url, encryptSecret(deps.secretKey, inv.callback.secret));
  let view: ConnectionView;
  try {
    view = await withTemporalDeadline(deps, (deadline) => startInvitation(deps, input, pinned, summary, inv.updateId, deadline));
  } catch (err) {
    // Refused before any run of ours started: the stored callback belongs to nothing.
    if (inv.callback && err instanceof ApiError && err.code === ErrorCode.CONNECTION_EXISTS) await dropCallbackWithoutConnection(db, inv.connectionId);
    throw err;
  }
  return finish(deps, inv, view);
}

const connectionExists = () => new ApiError(ErrorCode.CONNECTION_EXISTS, 'an open connection between these clients already exists');

/**
 * Starts the workflow and waits until the invitation is recorded, in one round trip: update
 * `invitation` with start. The pair's workflow id is the lock of one open connection per pair: if
 * a run is there already, the update goes to it — our own first attempt answers (same update id,
 * or its handler recognises the connection id); another connection's run refuses with
 * CONNECTION_EXISTS, and the read model says whether that one is open (409) or final and its run
 * closing this moment (then we try again).
 */
async function startInvitation(
  deps: ConnectionServiceDeps,
  input: ConnectionWorkflowInput,
  rules: { version: string; name: string },
  summary: string,
  updateId: string,
  deadline: number,
): Promise<ConnectionView> {
  const { client, taskQueue } = deps.temporal;
  const workflowId = connectionWorkflowId(input.sourceClientId, input.targetClientId);
  for (;;) {
    const start = new WithStartWorkflowOperation(connectionWorkflow, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      // The run shows what it is from its first event on: the workflow writes none of this again.
      memo: { connectionId: input.connectionId, ruleSetVersion: rules.version, ruleSetName: rules.name },
      typedSearchAttributes: [
        { key: searchAttributes.ConnectionStatus, value: 'invited' },
        { key: searchAttributes.SourceClientId, value: input.sourceClientId },
        { key: searchAttributes.TargetClientId, value: input.targetClientId },
        { key: searchAttributes.OfferAccess, value: input.offerAccess },
        { key: searchAttributes.RuleSetVersion, value: rules.version },
      ],
      staticSummary: summary,
    });
    try {
      return await client.workflow.executeUpdateWithStart(invitationUpdate, {
        args: [{ connectionId: input.connectionId }],
        updateId,
        startWorkflowOperation: start,
      });
    } catch (err) {
      if (!isRefusal(err, ErrorCode.CONNECTION_EXISTS)) throw err;
      if (await findOpenConnection(deps.db, input.sourceClientId, input.targetClientId)) throw connectionExists();
      // The pair's previous connection is final (its row says so) and its run is closing this moment.
      if (Date.now() + 300 > deadline) throw outcomeUnknown();
      await sleep(200);
    }
  }
}

/** A refusal of the workflow's update (ApplicationFailure typed with the error code). */
function isRefusal(err: unknown, code: ErrorCode): boolean {
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === code;
}

/**
 * A rejection becomes its error. A retry of an invitation recorded before secrets were stored
 * first (the old gap) stores its secret now; otherwise the stored one stays (the source may have
 * changed it since).
 */
async function finish(deps: ConnectionServiceDeps, inv: Invitation, view: ConnectionView): Promise<ConnectionView> {
  if (view.status === 'rejected' && view.rejection) {
    // The workflow's own re-check refused what the pre-check passed (a race with a module switch).
    const code = view.rejection.code as ErrorCode;
    throw new ApiError(Object.values(ErrorCode).includes(code) ? code : ErrorCode.RULE_REJECTED, view.rejection.message, {
      connectionId: view.id,
    });
  }
  if (inv.callback && !(await getCallback(deps.db, view.id))?.secret_enc) {
    await storeCallback(deps.db, view.id, inv.callback.url, encryptSecret(deps.secretKey, inv.callback.secret));
  }
  return view;
}

/** The connection if the caller is one of its parties; 404 otherwise (never leak others' ids). */
export async function visibleConnection(db: Kysely<Database>, id: string, callerClientId: string) {
  if (!isUuid(id)) throw notFound();
  const row = await getConnection(db, id);
  if (!row || (row.source_client_id !== callerClientId && row.target_client_id !== callerClientId)) throw notFound();
  return row;
}

/**
 * Sends a command as its Workflow Update; the workflow's validator decides (FORBIDDEN_ACTOR,
 * INVALID_TRANSITION, …) and the handler returns the recorded view. `getHandle` addresses the
 * latest run: if that belongs to a newer connection, the validator refuses the id mismatch.
 */
export async function runCommand<K extends ConnectionCommandName>(
  deps: ConnectionServiceDeps,
  cmd: { connectionId: string; callerClientId: string; name: K; fields: CommandFields<ConnectionCommands[K]>; updateId: string },
): Promise<ConnectionView> {
  const row = await visibleConnection(deps.db, cmd.connectionId, cmd.callerClientId);
  const handle = deps.temporal.client.workflow.getHandle<typeof connectionWorkflow>(row.workflow_id);
  const update = connectionUpdates[cmd.name];
  const args = { ...cmd.fields, connectionId: row.id, actor: cmd.callerClientId };
  const view = await withTemporalDeadline(deps, () => handle.executeUpdate(update, { args: [args], updateId: cmd.updateId }));
  // The workflow knows the callback URL of the invitation; the source may have changed it since.
  if (row.callback_url) view.callback = { url: row.callback_url };
  return view;
}

/**
 * PUT /v1/connections/{id}/callback: the source replaces URL and secret, whatever the state (a
 * refund of an ended connection's sale is still told). No transition: the version stays.
 */
export async function setCallback(
  deps: ConnectionServiceDeps,
  cmd: { connectionId: string; callerClientId: string; url: string; secret: string },
): Promise<ConnectionView> {
  const row = await visibleConnection(deps.db, cmd.connectionId, cmd.callerClientId);
  if (row.source_client_id !== cmd.callerClientId) throw new ApiError(ErrorCode.FORBIDDEN_ACTOR, 'only the source sets its callback');
  checkCallbackUrl(cmd.url, deps.allowInsecureCallbacks, 'url');
  await storeCallback(deps.db, row.id, cmd.url, encryptSecret(deps.secretKey, cmd.secret));
  return { ...toConnectionView(row), callback: { url: cmd.url } };
}
