import { describe, expect, test } from 'vitest';
import { NOTIFICATION_EVENTS } from '../../rules/model.ts';
import { loadRuleSet } from '../../rules/loader.ts';
import { errorsOf, evaluatorFor, FULL_HEADER as HEADER } from './support.ts';

describe('notifications', () => {
  test('each lifecycle event names its mail template and recipient', () => {
    const rules = evaluatorFor(HEADER);
    expect(rules.notification('connection.invite')).toEqual({ template: 'invitation', recipient: 'target', enabled: true });
    expect(rules.notification('connection.accept')).toEqual({ template: 'accepted', recipient: 'source', enabled: true });
    expect(rules.notification('connection.block')).toEqual({ template: 'blocked', recipient: 'otherParty', enabled: true });
    expect(rules.notification('purchase.record')).toEqual({ template: 'saleRecorded', recipient: 'source', enabled: true });
  });

  test('a mail is on unless switched off', () => {
    const rules = evaluatorFor(HEADER);
    const listed = NOTIFICATION_EVENTS.filter((event) => HEADER.includes(`  ${event}:`));
    expect(listed.length).toBeGreaterThan(0);
    for (const event of listed) expect(rules.notification(event)?.enabled).toBe(true);
  });

  test('a mail can be switched off', () => {
    const rules = evaluatorFor(HEADER.replace('{ template: expired, recipient: source }', '{ template: expired, recipient: source, enabled: false }'));
    expect(rules.notification('connection.expire')).toEqual({ template: 'expired', recipient: 'source', enabled: false });
  });

  test('a mail can go to another party with another template', () => {
    const rules = evaluatorFor(HEADER.replace('{ template: ended, recipient: otherParty }', '{ template: blocked, recipient: source }'));
    expect(rules.notification('connection.end')).toEqual({ template: 'blocked', recipient: 'source', enabled: true });
  });

  test('an event the rule set does not route sends no mail, and the loader says so', () => {
    const source = HEADER.replace('  connection.withdraw: { template: withdrawn, recipient: target }\n', '');
    const loaded = loadRuleSet(source, { file: 'short.rules.yaml' });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const warning = loaded.warnings.find((w) => w.message.includes('connection.withdraw'));
    expect(warning).toMatchObject({ code: 'RULES_NOTIFICATION_MISSING', file: 'short.rules.yaml', path: 'notifications' });
    expect(warning!.line).toBe(source.split('\n').indexOf('notifications:') + 1);
    expect(evaluatorFor(source).notification('connection.withdraw')).toBeNull();
  });

  test('a rule set published before sales mailed (no `purchase.record`) loads: sales send no mail, with a warning', () => {
    const source = HEADER.replace('  purchase.record: { template: saleRecorded, recipient: source }\n', '');
    const loaded = loadRuleSet(source);
    expect(loaded.ok && loaded.warnings.map((w) => [w.code, w.message])).toEqual([
      ['RULES_NOTIFICATION_MISSING', '`purchase.record` owes a mail but is not listed: it sends none'],
    ]);
    expect(evaluatorFor(source).notification('purchase.record')).toBeNull();
  });

  test('the sale mail may go to the seller (target) or be switched off', () => {
    expect(evaluatorFor(HEADER.replace('{ template: saleRecorded, recipient: source }', '{ template: saleRecorded, recipient: target }')).notification('purchase.record'))
      .toEqual({ template: 'saleRecorded', recipient: 'target', enabled: true });
    expect(evaluatorFor(HEADER.replace('{ template: saleRecorded, recipient: source }', '{ template: saleRecorded, recipient: source, enabled: false }')).notification('purchase.record')?.enabled)
      .toBe(false);
  });

  test('a template written for the other kind of event is refused', () => {
    const [sale] = errorsOf(HEADER.replace('{ template: saleRecorded, recipient: source }', '{ template: accepted, recipient: source }'));
    expect(sale).toMatchObject({ code: 'RULES_BAD_TEMPLATE', path: 'notifications.purchase.record.template', hint: 'use `saleRecorded`' });
    const [connection] = errorsOf(HEADER.replace('{ template: ended, recipient: otherParty }', '{ template: saleRecorded, recipient: otherParty }'));
    expect(connection).toMatchObject({ code: 'RULES_BAD_TEMPLATE', path: 'notifications.connection.end.template' });
  });

  test('a rule set without notifications loads: it sends no mail at all, with one warning per event', () => {
    const source = HEADER.slice(0, HEADER.indexOf('notifications:'));
    const loaded = loadRuleSet(source);
    expect(loaded.ok && loaded.warnings.map((w) => w.code)).toEqual(NOTIFICATION_EVENTS.map(() => 'RULES_NOTIFICATION_MISSING'));
  });

  test('an unknown lifecycle event is refused with a suggestion', () => {
    const [error] = errorsOf(HEADER.replace('notifications:\n', 'notifications:\n  connection.acept: { template: accepted, recipient: source }\n'));
    expect(error).toMatchObject({ code: 'RULES_UNKNOWN_EVENT', hint: 'did you mean `connection.accept`?' });
  });

  test('enabled must be true or false', () => {
    const [error] = errorsOf(HEADER.replace('{ template: expired, recipient: source }', '{ template: expired, recipient: source, enabled: "no" }'));
    expect(error).toMatchObject({ code: 'RULES_BAD_TYPE' });
  });
});
