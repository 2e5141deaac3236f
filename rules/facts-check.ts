/**
 * Checking hand-written facts (`ccx rules explain <event> <facts.json>`) against the declared
 * fact types, so a typo in a JSON file reads as "source.company.moduleActive: missing" instead
 * of a rule that "could not be evaluated". Workflows build facts in TypeScript and skip this.
 */
import { closest } from './errors.ts';
import { FACT_TYPES, variablesOf, type FactScope, type FactTypeName } from './facts.ts';

/** Problems as `path: what is wrong`; empty when the facts match their declaration. */
export function checkFacts(scope: FactScope, facts: unknown): string[] {
  const problems: string[] = [];
  checkObject(facts, variablesOf(scope), '', problems);
  return problems;
}

function checkObject(value: unknown, fields: Readonly<Record<string, string>>, path: string, problems: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path || '(facts)'}: expected an object`);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const [name, type] of Object.entries(fields)) {
    const at = path ? `${path}.${name}` : name;
    if (!(name in record)) problems.push(`${at}: missing`);
    else checkValue(record[name], type, at, problems);
  }
  for (const name of Object.keys(record)) {
    if (name in fields) continue;
    const suggestion = closest(name, Object.keys(fields));
    problems.push(`${path ? `${path}.${name}` : name}: unknown${suggestion ? ` — did you mean \`${suggestion}\`?` : ''}`);
  }
}

function checkValue(value: unknown, type: string, path: string, problems: string[]): void {
  switch (type) {
    case 'string':
    case 'bool': {
      const expected = type === 'bool' ? 'boolean' : 'string';
      if (typeof value !== expected) problems.push(`${path}: expected ${type === 'bool' ? 'true or false' : 'text'}`);
      return;
    }
    case 'int':
      if (!(typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)))) {
        problems.push(`${path}: expected a whole number (money in minor units)`);
      }
      return;
  }
  if (type.startsWith('list<')) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
    else value.forEach((item, i) => checkValue(item, type.slice(5, -1), `${path}[${i}]`, problems));
    return;
  }
  checkObject(value, FACT_TYPES[type as FactTypeName], path, problems);
}
