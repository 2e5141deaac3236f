// The workflow bundle's entry point: every workflow type the worker registers, each module loaded
// when a run of its type starts.
import type * as Connection from './connection.workflow.ts';
import type * as ModuleFanout from './module-fanout.workflow.ts';
import type * as Cart from './cart.workflow.ts';
import type * as AvailabilityFanout from './availability-fanout.workflow.ts';
import type * as Purchase from './purchase.workflow.ts';
import type * as PurchaseMail from './purchase-mail.workflow.ts';

/* eslint-disable @typescript-eslint/no-require-imports */
export const connectionWorkflow: typeof Connection.connectionWorkflow = (...a) => (require('./connection.workflow.ts') as typeof Connection).connectionWorkflow(...a);
export const moduleFanoutWorkflow: typeof ModuleFanout.moduleFanoutWorkflow = (...a) => (require('./module-fanout.workflow.ts') as typeof ModuleFanout).moduleFanoutWorkflow(...a);
export const cartWorkflow: typeof Cart.cartWorkflow = (...a) => (require('./cart.workflow.ts') as typeof Cart).cartWorkflow(...a);
export const availabilityFanoutWorkflow: typeof AvailabilityFanout.availabilityFanoutWorkflow = (...a) =>
  (require('./availability-fanout.workflow.ts') as typeof AvailabilityFanout).availabilityFanoutWorkflow(...a);
export const purchaseWorkflow: typeof Purchase.purchaseWorkflow = (...a) => (require('./purchase.workflow.ts') as typeof Purchase).purchaseWorkflow(...a);
export const purchaseMailWorkflow: typeof PurchaseMail.purchaseMailWorkflow = (...a) => (require('./purchase-mail.workflow.ts') as typeof PurchaseMail).purchaseMailWorkflow(...a);
