import { describe, expect, test } from 'vitest';
import { RULE_CODES } from '../../rules/model.ts';
import { errorsOf, evaluatorFor, guardsFor, invitation } from './support.ts';

const refusing = (code?: string) =>
  guardsFor('connection.invite', `    - id: never\n      require: "false"\n      message: no${code ? `\n      code: ${code}` : ''}\n`);

describe('error codes of guards', () => {
  test('a guard without a code refuses with RULE_REJECTED', () => {
    expect(evaluatorFor(refusing()).checkGuards('connection.invite', invitation())).toMatchObject({ code: 'RULE_REJECTED' });
  });

  test.each(RULE_CODES)('a guard may refuse with %s', (code) => {
    expect(evaluatorFor(refusing(code)).checkGuards('connection.invite', invitation())).toMatchObject({ code });
  });

  test.each(['INVALID_TRANSITION', 'UNAUTHENTICATED', 'NOT_FOUND', 'UNAVAILABLE'])(
    '%s is not a policy refusal, so a rule may not use it',
    (code) => {
      const [error] = errorsOf(refusing(code));
      expect(error).toMatchObject({ code: 'RULES_BAD_CODE' });
      expect(error!.hint).toContain('RULE_REJECTED');
    },
  );

  test('a code that is not an error code at all is refused with a suggestion', () => {
    const [error] = errorsOf(refusing('ITEM_UNAVAILABEL'));
    expect(error).toMatchObject({ code: 'RULES_BAD_CODE', hint: 'did you mean `ITEM_UNAVAILABLE`?' });
  });

  test('a guard that cannot be evaluated refuses with RULE_REJECTED whatever its own code', () => {
    const rules = evaluatorFor(guardsFor('connection.invite', '    - { id: g, require: "source.company.moduleActive", message: m, code: CONTRACT_MODULE_INACTIVE }\n'));
    const verdict = rules.checkGuards('connection.invite', invitation({ source: {} as never }));
    expect(verdict).toMatchObject({ code: 'RULE_REJECTED', failure: 'error' });
  });
});
