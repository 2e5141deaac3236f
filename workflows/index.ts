// The workflow bundle's entry point: every workflow type the worker registers.
export { connectionWorkflow } from './connection.workflow.ts';
export { moduleFanoutWorkflow } from './module-fanout.workflow.ts';
export { cartWorkflow } from './cart.workflow.ts';
export { availabilityFanoutWorkflow } from './availability-fanout.workflow.ts';
export { purchaseWorkflow } from './purchase.workflow.ts';
export { purchaseMailWorkflow } from './purchase-mail.workflow.ts';
