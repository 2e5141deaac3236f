/**
 * One run per order (id `purchase:<seller>:<orderId>`, reuse REJECT_DUPLICATE): asks each source's
 * connection to authorize the sale (update `authorizeSale` from an activity — the accepted update
 * in the connection's history is the linearization point against a block or an offer-access
 * change), computes each cross-client item's share with THAT connection's pinned rule set, here,
 * deterministically, and records the order with its PAYMENT rows in one transaction. Refusals
 * fail the run with a non-retryable ApplicationFailure whose type is the error code.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PurchaseActivities } from '../activities/purchase.activities.ts';
import { ErrorCode } from '../domain/errors.ts';
import { activityPresets, searchAttributes } from '../temporal.config.ts';
import { refusalFailure } from './errors.ts';
import { purchaseMailWorkflow } from './purchase-mail.workflow.ts';
import { purchaseMailWorkflowId, type PurchaseResult, type PurchaseStatus, type PurchaseWorkflowInput } from './purchase.messages.ts';
import { evaluatorCache, priceSale, saleRecordOf } from './sale-pricing.ts';

const store = proxyActivities<PurchaseActivities>(activityPresets.database);
/**
 * The same activities run locally, inside the workflow task: a purchase is short and answers a
 * waiting checkout, and each regular activity costs a task dispatch and a workflow task more (two
 * Temporal round trips). Same timeouts and retries; results recorded as markers.
 */
const local = proxyLocalActivities<PurchaseActivities>(activityPresets.database);
/** With a line for the Temporal UI's event list (lean runs; the summary changes no command). */
const summarized = (summary: string) => proxyLocalActivities<PurchaseActivities>({ ...activityPresets.database, summary });
/**
 * `authorizeSale` waits for the connection's workflow to answer an update — a workflow task that
 * the same workers run. As a local activity it would hold this purchase's workflow task (and its
 * slot) while waiting: under load, purchases holding every slot wait for connection tasks that
 * find none, until deadlines break the jam. So runs ask as a regular activity (`purchase-asks`),
 * which frees the slot while it waits (docs/decisions.md "Speed and load").
 */
const asking = (summary: string) => proxyActivities<PurchaseActivities>({ ...activityPresets.database, summary });
/**
 * `authorizeAndRecordPurchase`: the whole sale in one regular activity — ask each connection, price
 * the rows with its pinned rule set, record. Its start-to-close covers the connection's answer
 * (up to 4 s, activities/purchase.activities.ts) and the record's transaction.
 */
const oneStep = (summary: string) => proxyActivities<PurchaseActivities>({ ...activityPresets.database, startToCloseTimeout: '10 seconds', summary });

export async function purchaseWorkflow(input: PurchaseWorkflowInput): Promise<PurchaseResult> {
  const problem = purchaseInputProblem(input);
  if (problem) throw refusalFailure({ code: ErrorCode.INVALID_REQUEST, message: problem });
  const { request, sellerClientId } = input;
  // Versions, newest first (test/histories replays each): runs from before `purchase-lean` wrote
  // their status three times; before `purchase-local-activities` they scheduled regular
  // activities. A patch costs a marker and a search-attribute write, so a lean run does not ask
  // for the older ones: it implies them; and a run whose input names its shape (the API's) does
  // not ask at all — the input is in history, so replay takes the same branch. `purchase-asks`:
  // authorizeSale as a regular activity; `purchase-lean` runs from before asked with a local one.
  // `purchase-one-step` (the API's shape 'one-step'): one activity authorizes, prices and records —
  // no local-activity marker, the connections' answers never in this history (12 events).
  if (input.shape === 'one-step' || (input.shape === undefined && patched('purchase-one-step'))) return oneStepPurchase(input);
  const asks = input.shape === 'lean' || patched('purchase-asks');
  const lean = asks || patched('purchase-lean');
  const steps = lean || patched('purchase-local-activities') ? local : store;
  // The API starts the run with its search attributes; a direct start may not have.
  if (!lean || workflowInfo().typedSearchAttributes.get(searchAttributes.PurchaseStatus) === undefined) setStatus('authorizing');
  try {
    const external = input.items.filter((i) => i.external);
    const sources = [...new Set(external.map((i) => i.sourceClientId))].sort();
    // Passed by the API (one Temporal round trip less per purchase), or loaded here; in history either way.
    const facts = input.facts ?? (await steps.loadPurchaseFacts({ sellerClientId, sourceClientIds: sources, offerIds: external.map((i) => i.offerId) }));
    // Every source at once; each activity waits for its connection's answer.
    const sales = await Promise.all(
      sources.map((sourceClientId) =>
        (asks ? asking(`authorize sale of ${sourceClientId}'s offers`) : lean ? summarized(`authorize sale of ${sourceClientId}'s offers`) : steps).authorizeSale({
          sourceClientId,
          sellerClientId,
          orderId: request.orderId,
          purchaseId: workflowInfo().workflowId,
          offerIds: external.filter((i) => i.sourceClientId === sourceClientId).map((i) => i.offerId),
        }),
      ),
    );
    const saleOf = new Map(sources.map((s, n) => [s, sales[n]!]));
    const priced = priceSale(input, facts, saleOf, evaluatorCache());
    if (!priced.ok) throw refusalFailure(priced.refusal);
    const { payments, mails } = priced;
    // Runs from before the mails went with the order's record started a mail child after it.
    const mailsWithRecord = lean || patched('purchase-mails-in-record');
    // Authorizing and recording happen in one workflow task: nobody could see this status.
    if (!lean) setStatus('recording');
    const order = await (lean ? summarized(`record order ${request.orderId}: ${payments.length} payout row(s), ${mails.length} mail(s)`) : steps).recordPurchase(
      saleRecordOf(input, payments, mails, mailsWithRecord),
    );
    setStatus('recorded');
    if (!mailsWithRecord && mails.length > 0) {
      // A child that outlives this run: the answer waits only for its start, never for SMTP.
      try {
        await startChild(purchaseMailWorkflow, {
          workflowId: purchaseMailWorkflowId(sellerClientId, request.orderId),
          args: [{ mails }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `mails of order ${request.orderId}`,
        });
      } catch (err) {
        // Only an existing run of that id (this order's mails already under way): never fails the purchase.
        log.warn('purchase mails not started', { orderId: request.orderId, error: String(err) });
      }
    }
    return { order, requestHash: input.requestHash, startToken: input.startToken ?? null };
  } catch (err) {
    // A refusal (ours, or an activity's non-retryable one) fails the run with its code as type.
    throw refused(input, err);
  }

  function setStatus(status: PurchaseStatus): void {
    setPurchaseStatus(input, status);
  }
}

/** Today's shape: the sale in one activity, the status "recorded", the result. */
async function oneStepPurchase(input: PurchaseWorkflowInput): Promise<PurchaseResult> {
  // The API starts the run with its search attributes; a direct start has not.
  if (workflowInfo().typedSearchAttributes.get(searchAttributes.PurchaseStatus) === undefined) setPurchaseStatus(input, 'authorizing');
  const sources = new Set(input.items.filter((i) => i.external).map((i) => i.sourceClientId)).size;
  try {
    const order = await oneStep(`authorize with ${sources} connection(s) and record order ${input.request.orderId}`).authorizeAndRecordPurchase({
      ...input,
      purchaseId: workflowInfo().workflowId,
    });
    setPurchaseStatus(input, 'recorded');
    return { order, requestHash: input.requestHash, startToken: input.startToken ?? null };
  } catch (err) {
    throw refused(input, err);
  }
}

/** A refusal (an activity's non-retryable one) fails the run with its code as type; anything else is rethrown. */
function refused(input: PurchaseWorkflowInput, err: unknown): unknown {
  const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
  if (!(failure instanceof ApplicationFailure)) return err;
  setPurchaseStatus(input, 'refused');
  return ApplicationFailure.create({
    type: failure.type ?? ErrorCode.UNAVAILABLE,
    message: failure.message,
    nonRetryable: true,
    details: failure.details ? [...failure.details] : undefined,
  });
}

function setPurchaseStatus({ request, sellerClientId }: PurchaseWorkflowInput, status: PurchaseStatus): void {
  upsertSearchAttributes([
    { key: searchAttributes.OrderId, value: request.orderId },
    { key: searchAttributes.PurchaseStatus, value: status },
    { key: searchAttributes.ClientId, value: sellerClientId },
  ]);
}

/** What is wrong with an input from a caller going to Temporal directly, or null (never a thrown task error). */
function purchaseInputProblem(input: PurchaseWorkflowInput): string | null {
  if (typeof input?.sellerClientId !== 'string' || typeof input.cartId !== 'string' || typeof input.requestHash !== 'string') {
    return 'sellerClientId, cartId and requestHash must be strings';
  }
  const r = input.request;
  if (!r || typeof r.orderId !== 'string' || !Array.isArray(r.items) || !Array.isArray(input.items)) return 'request with orderId and items is required';
  if (input.items.length !== r.items.length || input.items.some((i, n) => i?.offerId !== r.items[n]?.offerId || !Number.isSafeInteger(i.amountMinor))) {
    return 'items must be the request items resolved in order';
  }
  const f = input.facts;
  if (f !== undefined) {
    if (!f || typeof f !== 'object' || f.seller?.id !== input.sellerClientId || typeof f.sources !== 'object' || typeof f.offers !== 'object') {
      return 'facts must be {seller, sources, offers} of this seller';
    }
    const external = input.items.filter((i) => i.external);
    if (external.some((i) => !f.sources?.[i.sourceClientId] || !f.offers?.[i.offerId])) return 'facts must name every source and external offer of the items';
    if (f.connections !== undefined && (!f.connections || typeof f.connections !== 'object' || !Object.values(f.connections).every((c) => typeof c?.id === 'string' && typeof c.workflowId === 'string'))) {
      return 'facts.connections must map source client ids to {id, workflowId}';
    }
    if (f.emails !== undefined && (!f.emails || typeof f.emails !== 'object' || !Object.values(f.emails).every((v) => typeof v === 'string'))) return 'facts.emails must map client ids to addresses';
  }
  return null;
}
