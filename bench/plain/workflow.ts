/**
 * The baseline's workflows (own bundle, own task queue). One workflow per open connection: the
 * invitation arrives by update-with-start, each command is an update with a validator (actor and
 * state checks, so a refusal never enters history), each transition runs one ordinary activity
 * (one upsert plus its mails into an outbox, one transaction) and then sets the search attributes
 * it changed. An invitation expires after its TTL; `blocked` stays open, as in the product.
 */
import { ApplicationFailure, condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PlainActivities } from './activities.ts';
import {
  acceptUpdate,
  authorizeSaleUpdate,
  blockUpdate,
  inviteUpdate,
  sa,
  setOfferAccessUpdate,
  viewQuery,
  type PlainConnectionInput,
  type PlainOrder,
  type PlainPurchaseInput,
  type PlainStatus,
  type PlainView,
} from './messages.ts';


const { recordTransition, authorizeAndRecordPurchase } = proxyActivities<PlainActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

export async function plainConnectionWorkflow(input: PlainConnectionInput): Promise<PlainView> {
  const { source, target } = input;
  let status: PlainStatus = 'new';
  let offerAccess = input.offerAccess;
  let blockedBy: string | null = null;
  let version = 0;
  let expiresAt: string | null = null;
  const view = (): PlainView => ({
    id: input.connectionId,
    workflowId: workflowInfo().workflowId,
    sourceClientId: source.clientId,
    targetClientId: target.clientId,
    status,
    offerAccess,
    blockedBy,
    expiresAt,
    version,
  });

  /** Records the transition just made (state already changed, before any await) with its mail. */
  async function transition(template: string, to: 'source' | 'target', attributes: boolean): Promise<PlainView> {
    version++;
    const snapshot = view();
    if (input.effects) await recordTransition({ view: snapshot, source, target, mail: { template, to } });
    if (attributes) {
      upsertSearchAttributes([
        { key: sa.ConnectionStatus, value: status },
        { key: sa.OfferAccess, value: offerAccess },
      ]);
    }
    return snapshot;
  }

  function check(args: { connectionId: string; actor: string }, actors: string[], states: PlainStatus[]): void {
    if (args?.connectionId !== input.connectionId) throw refuse('NOT_FOUND', 'connection not found');
    if (!actors.includes(args.actor)) throw refuse('FORBIDDEN_ACTOR', 'not allowed for this party');
    if (!states.includes(status)) throw refuse('INVALID_TRANSITION', `not allowed while ${status}`);
  }
  const parties = [source.clientId, target.clientId];

  setHandler(
    inviteUpdate,
    async () => {
      status = 'invited';
      expiresAt = new Date(Date.now() + input.invitationTtlMs).toISOString();
      // The start set every search attribute already.
      return transition('invitation', 'target', false);
    },
    {
      validator: (args) => {
        // Another connection of this pair is open: the start was not ours.
        if (args?.connectionId !== input.connectionId) throw refuse('CONNECTION_EXISTS', 'an open connection between these clients already exists');
        check(args, [source.clientId], ['new']);
      },
    },
  );
  setHandler(
    acceptUpdate,
    async () => {
      status = 'active';
      expiresAt = null;
      return transition('accepted', 'source', true);
    },
    { validator: (args) => check(args, [target.clientId], ['invited']) },
  );
  setHandler(
    setOfferAccessUpdate,
    async (args) => {
      if (args.offerAccess === offerAccess) return view(); // nothing changes, nobody is told
      offerAccess = args.offerAccess;
      return transition('offerAccessChanged', 'target', true);
    },
    {
      validator: (args) => {
        check(args, [source.clientId], ['invited', 'active']);
        if (typeof args.offerAccess !== 'boolean') throw refuse('INVALID_REQUEST', 'offerAccess must be a boolean');
      },
    },
  );
  setHandler(
    blockUpdate,
    async (args) => {
      status = 'blocked';
      blockedBy = args.actor;
      return transition('blocked', args.actor === source.clientId ? 'target' : 'source', true);
    },
    { validator: (args) => check(args, parties, ['active']) },
  );
  setHandler(authorizeSaleUpdate, () => ({ connectionId: input.connectionId, source, target }), {
    validator: (args) => {
      if (args?.actor !== target.clientId) throw refuse('FORBIDDEN_ACTOR', 'only the target sells the source\'s offers');
      if (status !== 'active' || !offerAccess) throw refuse('ITEM_UNAVAILABLE', `the connection is ${status}, offer access ${offerAccess ? 'on' : 'off'}`);
    },
  });
  setHandler(viewQuery, view);

  await condition(() => status !== 'new');
  if (!(await condition(() => status !== 'invited', input.invitationTtlMs))) {
    status = 'expired';
    await transition('expired', 'source', true);
    return view();
  }
  // Open until ended (not part of this benchmark): like the product, a blocked connection waits.
  await condition(() => false);
  return view();
}

/** One run per order: the connection authorizes the sale, one activity writes the order, its rows and mails. */
export async function plainPurchaseWorkflow(input: PlainPurchaseInput): Promise<PlainOrder> {
  const order = await authorizeAndRecordPurchase(input);
  upsertSearchAttributes([{ key: sa.PurchaseStatus, value: 'recorded' }]);
  return order;
}
