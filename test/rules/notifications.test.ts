import { describe, expect, test } from 'vitest';
import { NOTIFICATION_EVENTS } from '../../rules/model.ts';
import { errorsOf, evaluatorFor, HEADER } from './support.ts';

describe('notifications', () => {
  test('each lifecycle event names its mail template and recipient', () => {
    const rules = evaluatorFor(HEADER);
    expect(rules.notification('connection.invite')).toEqual({ template: 'invitation', recipient: 'target', enabled: true });
    expect(rules.notification('connection.accept')).toEqual({ template: 'accepted', recipient: 'source', enabled: true });
    expect(rules.notification('connection.block')).toEqual({ template: 'blocked', recipient: 'otherParty', enabled: true });
  });

  test('a mail is on unless switched off', () => {
    const rules = evaluatorFor(HEADER);
    for (const event of NOTIFICATION_EVENTS) expect(rules.notification(event).enabled).toBe(true);
  });

  test('a mail can be switched off', () => {
    const rules = evaluatorFor(HEADER.replace('{ template: expired, recipient: source }', '{ template: expired, recipient: source, enabled: false }'));
    expect(rules.notification('connection.expire')).toEqual({ template: 'expired', recipient: 'source', enabled: false });
  });

  test('a mail can go to another party with another template', () => {
    const rules = evaluatorFor(HEADER.replace('{ template: ended, recipient: otherParty }', '{ template: blocked, recipient: source }'));
    expect(rules.notification('connection.end')).toEqual({ template: 'blocked', recipient: 'source', enabled: true });
  });

  test('every lifecycle event must be stated, so no mail disappears by omission', () => {
    const [error] = errorsOf(HEADER.replace('  connection.withdraw: { template: withdrawn, recipient: target }\n', ''));
    expect(error).toMatchObject({ code: 'RULES_MISSING_FIELD', message: 'missing `connection.withdraw`' });
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
