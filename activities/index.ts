/**
 * Every activity the worker registers, from one set of dependencies. Workflows import only
 * `typeof` the groups they use (type-only: nothing of activities/ enters the sandbox).
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { createCartActivities } from './cart.activities.ts';
import { createAvailabilityActivities } from './availability.activities.ts';
import { createConnectionActivities } from './connection.activities.ts';
import { createPurchaseActivities } from './purchase.activities.ts';

export interface ActivityDeps {
  db: Kysely<Database>;
  /**
   * For activities that talk to other workflows (signals to carts, updates to connections). Its
   * task queue also names the mail queue: activities only enqueue mails, the worker process's
   * dispatcher (runtime/mail-dispatcher.ts) talks SMTP.
   */
  temporal: { client: Client; taskQueue: string };
}

export function createActivities(deps: ActivityDeps) {
  const withQueue = { ...deps, mailQueue: deps.temporal.taskQueue };
  return {
    ...createConnectionActivities(withQueue),
    ...createAvailabilityActivities(deps),
    ...createCartActivities(deps),
    ...createPurchaseActivities(withQueue),
  };
}
