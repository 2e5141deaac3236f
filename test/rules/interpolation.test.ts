import { describe, expect, test } from 'vitest';
import { client, errorsOf, evaluatorFor, guardsFor, invitation } from './support.ts';

const refusal = (message: string, facts = invitation()) => {
  const rules = evaluatorFor(guardsFor('connection.invite', `    - id: never\n      require: "false"\n      message: ${message}\n`));
  const verdict = rules.checkGuards('connection.invite', facts);
  return verdict.allowed ? null : verdict.message;
};

describe('message interpolation', () => {
  test('a message without placeholders is used as written', () => {
    expect(refusal('not today {url, secret}')).toBe('not today {url, secret}');
  });

  test('{{ target.name }} is replaced by the fact', () => {
    expect(refusal("'{{ target.name }} is not invited'", invitation({ target: client('TARGET', 'C', true, 'Abendblatt') }))).toBe(
      'Abendblatt is not invited',
    );
  });

  test('several placeholders, with any CEL expression over the facts', () => {
    expect(refusal('"{{ source.id }} → {{ target.id }}: same company {{ source.company.id == target.company.id }}"')).toBe(
      'SOURCE → TARGET: same company true',
    );
  });

  test('integers read without a BigInt suffix', () => {
    expect(refusal('"{{ size(source.name) }} characters"')).toBe('13 characters');
  });

  test('a literal {{ is written as a CEL string', () => {
    expect(refusal(`'{{ "{{" }}braces}}'`)).toBe('{{braces}}');
  });

  test('a placeholder whose fact is missing reads as ? rather than failing the refusal', () => {
    expect(refusal('"company {{ source.company.id }}"', invitation({ source: { id: 'S', name: 'S', language: 'de' } as never }))).toBe(
      'company ?',
    );
  });

  test('a placeholder must produce text, a number or a bool', () => {
    const [error] = errorsOf(guardsFor('connection.invite', '    - { id: a, require: "true", message: "{{ [1, 2] }}" }\n'));
    expect(error).toMatchObject({ code: 'RULES_CEL_TYPE' });
  });

  test('an empty placeholder is refused', () => {
    const [error] = errorsOf(guardsFor('connection.invite', '    - { id: a, require: "true", message: "x {{ }}" }\n'));
    expect(error).toMatchObject({ code: 'RULES_BAD_INTERPOLATION' });
  });
});
