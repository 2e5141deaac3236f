import { ApplicationFailure } from '@temporalio/common';
import { afterAll, expect, test } from 'vitest';
import { createConnectionActivities } from '../../activities/connection.activities.ts';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';
import { newId, testDatabase } from '../support/database.ts';

const handle = testDatabase();
const db = handle.db;
afterAll(() => handle.close());

// Loading facts never sends mail; the transport only has to exist.
const activities = createConnectionActivities({ db, mailQueue: 'no-mail' });

/** `module`: on, off (switched off), or never switched on (no contract_modules row). */
async function client(module: 'on' | 'off' | 'never', language: 'de' | 'en' = 'de') {
  const companyId = newId();
  const id = newId();
  await db.insertInto('contracting_companies').values({ id: companyId, name: `Company ${companyId}` }).execute();
  if (module !== 'never') {
    await db
      .insertInto('contract_modules')
      .values({ contracting_company_id: companyId, module: CROSS_CLIENT_MODULE, active: module === 'on', changed_at: new Date() })
      .execute();
  }
  const email = `${id.toLowerCase()}@example.test`;
  await db.insertInto('clients').values({ id, contracting_company_id: companyId, name: `Client ${id}`, email, language }).execute();
  return { clientId: id, name: `Client ${id}`, email, language, contractingCompanyId: companyId };
}

test('both parties are loaded with their contact, language and contracting company', async () => {
  const [source, target] = [await client('on', 'de'), await client('on', 'en')];
  const facts = await activities.loadConnectionFacts({ sourceClientId: source.clientId, targetClientId: target.clientId });
  expect(facts).toEqual({ source: { ...source, moduleActive: true, moduleRevision: 1 }, target: { ...target, moduleActive: true, moduleRevision: 1 } });
});

test('a module switched off for the contracting company is reported inactive', async () => {
  const [source, target] = [await client('on'), await client('off')];
  const facts = await activities.loadConnectionFacts({ sourceClientId: source.clientId, targetClientId: target.clientId });
  expect(facts.source.moduleActive).toBe(true);
  expect(facts.target?.moduleActive).toBe(false);
});

test('a module never switched on for the contracting company is reported inactive', async () => {
  const [source, target] = [await client('never'), await client('on')];
  const facts = await activities.loadConnectionFacts({ sourceClientId: source.clientId, targetClientId: target.clientId });
  expect(facts.source.moduleActive).toBe(false);
});

test('an unknown target is reported as no target, not as an error', async () => {
  const source = await client('on');
  const facts = await activities.loadConnectionFacts({ sourceClientId: source.clientId, targetClientId: newId() });
  expect(facts.target).toBeNull();
});

test('an unknown source fails for good with NOT_FOUND', async () => {
  const target = await client('on');
  const failure = await activities
    .loadConnectionFacts({ sourceClientId: newId(), targetClientId: target.clientId })
    .catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'NOT_FOUND', nonRetryable: true });
});
