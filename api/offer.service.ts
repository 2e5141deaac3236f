/**
 * Offers as the API writes and reads them. Postgres is the authority (no workflow): an offer and
 * the `touchPairs` of every pair whose sharing it may change commit in one transaction; after the
 * commit `onPairsTouched` starts the fan-out that tells carts (a relay retries a lost start).
 */
import type { Kysely } from 'kysely';
import { touchPairs, type Pair } from '../db/availability.repository.ts';
import { getPartyFacts } from '../db/client.repository.ts';
import {
  existingClientIds,
  getExternalOffer,
  getOffer,
  insertOffer,
  lockOwnOffer,
  toOfferView,
  updateOffer,
  type OfferFields,
  type OfferRowWithTargets,
} from '../db/offer.repository.ts';
import type { Database } from '../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import type { ExternalOfferView, OfferProduct, OfferView } from '../domain/offer.ts';
import { ApiError, invalidRequest } from './errors.ts';
import { checkOfferRules, OfferState, type CreateOfferInput, type OfferStateInput, type PatchOfferInput } from './offer.schemas.ts';

export interface OfferServiceDeps {
  db: Kysely<Database>;
  /** Called after a commit that touched pairs (starts the fan-out); a failure is logged, never answered. */
  onPairsTouched?: (pairs: Pair[]) => Promise<void>;
}

/** Where a failed `onPairsTouched` is reported (the request's logger; pino's signature). */
export interface ErrorLog {
  error(obj: Record<string, unknown>, msg: string): void;
}

const consoleLog: ErrorLog = { error: (obj, msg) => console.error(msg, obj) };
const notFound = () => new ApiError(ErrorCode.NOT_FOUND, 'offer not found');

/** Creates an offer owned by the caller; `offerId` is minted by the API (stable across retries of one key). */
export async function createOffer(
  deps: OfferServiceDeps,
  cmd: { ownerClientId: string; offerId: string; body: CreateOfferInput },
  log: ErrorLog = consoleLog,
): Promise<OfferView> {
  const { body, ownerClientId } = cmd;
  const broken = checkOfferRules(body);
  if (broken) throw broken;
  const targets = body.crossClient ? (body.connectedClientIds ?? []) : [];
  const result = await deps.db.transaction().execute(async (trx) => {
    // A retry of a create whose first attempt committed: answer with what was recorded.
    const recorded = await getOffer(trx, cmd.offerId);
    if (recorded) {
      if (recorded.owner_client_id !== ownerClientId) throw new Error(`minted offer id ${cmd.offerId} belongs to another client`);
      return { row: recorded, pairs: [] };
    }
    await checkTargets(trx, ownerClientId, targets);
    if (body.crossClient) await requireModule(trx, ownerClientId);
    const row = await insertOffer(trx, { id: cmd.offerId, ownerClientId, targets, ...fieldsOf(body) });
    if (!row) throw new Error(`offer id ${cmd.offerId} was taken concurrently`);
    const pairs = pairsOf(ownerClientId, targets);
    await touchPairs(trx, pairs);
    return { row, pairs };
  });
  await announce(deps, result.pairs, log);
  return toOfferView(result.row);
}

/**
 * Patches the caller's own offer (others: 404). The merged offer is checked as a whole with the
 * create rules; a patch that changes nothing answers the offer unchanged (no version bump).
 */
export async function patchOffer(
  deps: OfferServiceDeps,
  cmd: { callerClientId: string; offerId: string; body: PatchOfferInput },
  log: ErrorLog = consoleLog,
): Promise<OfferView> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const current = await lockOwnOffer(trx, cmd.offerId, cmd.callerClientId);
    if (!current) throw notFound();
    const before = stateOf(current);
    const parsed = OfferState.safeParse({ ...before, ...definedOnly(cmd.body) });
    if (!parsed.success) throw invalidRequest('body', parsed.error);
    const after = parsed.data;
    const broken = checkOfferRules(after);
    if (broken) throw broken;
    if (sameState(before, after)) return { row: current, pairs: [] };

    const oldTargets = current.cross_client ? current.targets : [];
    const newTargets = after.crossClient ? after.connectedClientIds : [];
    const added = newTargets.filter((t) => !oldTargets.includes(t));
    await checkTargets(trx, cmd.callerClientId, added);
    // Only a patch that widens sharing needs the module; narrowing or editing stays possible without it.
    if (after.crossClient && (!current.cross_client || added.length > 0)) await requireModule(trx, cmd.callerClientId);

    const row = await updateOffer(trx, current.id, fieldsOf(after), { before: current.targets, after: newTargets });
    const pairs = current.cross_client || after.crossClient ? pairsOf(cmd.callerClientId, [...new Set([...oldTargets, ...newTargets])]) : [];
    await touchPairs(trx, pairs);
    return { row, pairs };
  });
  await announce(deps, result.pairs, log);
  return toOfferView(result.row);
}

/** The owner gets the offer; a target it reaches right now gets the external view; anyone else 404. */
export async function readOffer(
  db: Kysely<Database>,
  offerId: string,
  callerClientId: string,
): Promise<{ kind: 'own'; view: OfferView } | { kind: 'external'; view: ExternalOfferView }> {
  const row = await getOffer(db, offerId);
  if (!row) throw notFound();
  if (row.owner_client_id === callerClientId) return { kind: 'own', view: toOfferView(row) };
  const external = await getExternalOffer(db, offerId, callerClientId);
  if (!external) throw notFound();
  return { kind: 'external', view: external };
}

/** Order of checks as for an invitation: every target exists, then none is the owner. */
async function checkTargets(db: Kysely<Database>, ownerClientId: string, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  const existing = await existingClientIds(db, targets);
  const missing = targets.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new ApiError(ErrorCode.TARGET_NOT_FOUND, `no client ${missing.join(', ')}`, { field: 'connectedClientIds', clientIds: missing });
  }
  if (targets.includes(ownerClientId)) {
    throw new ApiError(ErrorCode.SELF_CONNECTION, 'an offer cannot be shared with its owner', { field: 'connectedClientIds' });
  }
}

async function requireModule(db: Kysely<Database>, ownerClientId: string): Promise<void> {
  const owner = await getPartyFacts(db, ownerClientId, CROSS_CLIENT_MODULE);
  if (!owner) throw new ApiError(ErrorCode.UNAUTHENTICATED, 'the client of this key no longer exists');
  if (!owner.moduleActive) {
    throw new ApiError(ErrorCode.CONTRACT_MODULE_INACTIVE, `module ${CROSS_CLIENT_MODULE} is not active for the owner's contracting company`, {
      module: CROSS_CLIENT_MODULE,
      contractingCompanyId: owner.contractingCompanyId,
    });
  }
}

async function announce(deps: OfferServiceDeps, pairs: Pair[], log: ErrorLog): Promise<void> {
  if (pairs.length === 0 || !deps.onPairsTouched) return;
  try {
    await deps.onPairsTouched(pairs);
  } catch (err) {
    log.error({ err, pairs }, 'onPairsTouched failed after the offer was committed; the relay will retry');
  }
}

const pairsOf = (sourceClientId: string, targets: readonly string[]): Pair[] =>
  targets.map((targetClientId) => ({ sourceClientId, targetClientId }));

function fieldsOf(input: CreateOfferInput | OfferStateInput): OfferFields {
  return {
    title: input.title,
    priceMinor: input.priceMinor,
    currency: input.currency,
    crossClient: input.crossClient,
    products: input.products.map(productOf),
    selfServiceHint: input.selfServiceHint ?? null,
  };
}

/** Stored products carry `costCenters` only when given, so equal offers compare equal. */
const productOf = (p: OfferProduct): OfferProduct => ({
  name: p.name,
  costCenter: p.costCenter,
  ...(p.costCenters === undefined ? {} : { costCenters: p.costCenters }),
});

function stateOf(row: OfferRowWithTargets): OfferStateInput {
  const view = toOfferView(row);
  return {
    title: view.title,
    priceMinor: view.priceMinor,
    currency: view.currency,
    crossClient: view.crossClient,
    connectedClientIds: view.connectedClientIds,
    products: view.products,
    selfServiceHint: view.selfServiceHint,
  };
}

/** Drops keys whose value is undefined (an optional field the patch left out). */
const definedOnly = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

function sameState(a: OfferStateInput, b: OfferStateInput): boolean {
  const norm = (s: OfferStateInput) =>
    canonical({ ...fieldsOf(s), connectedClientIds: s.crossClient ? [...s.connectedClientIds].sort() : [] });
  return norm(a) === norm(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
