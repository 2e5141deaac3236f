import { describe, expect, test } from 'vitest';
import { checkFacts } from '../../rules/facts-check.ts';
import { invitation, payoutFacts } from './support.ts';

describe('checking hand-written facts for explain', () => {
  test('facts built as the workflow builds them pass', () => {
    expect(checkFacts('connection.invite', invitation())).toEqual([]);
    expect(checkFacts('payout', payoutFacts(100))).toEqual([]);
  });

  test('a missing fact is named by its path', () => {
    const facts = invitation();
    const { moduleActive: _, ...company } = facts.source.company;
    expect(checkFacts('connection.invite', { ...facts, source: { ...facts.source, company } })).toEqual(['source.company.moduleActive: missing']);
  });

  test('a misspelt fact gets a suggestion', () => {
    const { connection, ...rest } = invitation();
    expect(checkFacts('connection.invite', { ...rest, conection: connection })).toEqual([
      'connection: missing',
      'conection: unknown — did you mean `connection`?',
    ]);
  });

  test('money must be whole minor units, in list items too', () => {
    const facts = payoutFacts(100);
    expect(checkFacts('payout', { ...facts, purchase: { ...facts.purchase, items: [{ ...facts.item, amountMinor: 1.5 }] } })).toEqual([
      'purchase.items[0].amountMinor: expected a whole number (money in minor units)',
    ]);
  });
});
