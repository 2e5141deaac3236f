/**
 * Evaluations per second of the same invitation guards on the same facts, in one run:
 *   (a) this product's evaluator on the loaded default rule set,
 *   (b) raw @marcbachmann/cel-js, each expression parsed once,
 *   (c) json-rules-engine with equivalent rules.
 * Targets (issue 3): a ≥ 30 × c and a ≥ 0.9 × b. Rounds interleave the three so drifting CPU
 * speed hits all alike; the median round counts. `npm run bench:rules`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@marcbachmann/cel-js';
import { Engine } from 'json-rules-engine';
import { createEvaluator } from '../rules/evaluator.ts';
import type { GuardFacts } from '../rules/facts.ts';
import { loadRuleSet } from '../rules/loader.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 400);

const source = readFileSync(fileURLToPath(new URL('../rules/default.rules.yaml', import.meta.url)), 'utf8');
const loaded = loadRuleSet(source);
if (!loaded.ok) throw new Error('the default rule set does not load');
const guards = loaded.ruleSet.guards['connection.invite']!;

// Clients of two contracting companies, modules on, with a callback: every guard runs to the end.
const client = (id: string, company: string) => ({ id, name: `Client ${id}`, language: 'de', company: { id: company, moduleActive: true } });
const facts: GuardFacts['connection.invite'] = {
  source: client('SOURCE', 'COMPANYA'),
  target: client('TARGET', 'COMPANYB'),
  connection: { id: 'c1', status: 'new', offerAccess: true, hasCallback: true, blockedBy: '' },
};

// (a) the product
const evaluator = createEvaluator(loaded.ruleSet);
const product = () => evaluator.checkGuards('connection.invite', facts).allowed;

// (b) raw cel-js over the same expressions: first false refuses
const raw = guards.map((g) => parse(g.require));
const rawCel = () => {
  for (const fn of raw) if (fn(facts) !== true) return false;
  return true;
};

// (c) json-rules-engine: one rule per guard; the invitation is allowed when every rule succeeds
const sameCompany = { fact: 'source', path: '$.company.id', operator: 'equal', value: { fact: 'target', path: '$.company.id' } };
const engine = new Engine(
  [
    { name: 'source-module-active', conditions: { all: [{ fact: 'source', path: '$.company.moduleActive', operator: 'equal', value: true }] }, event: { type: 'ok' } },
    { name: 'target-module-active', conditions: { any: [sameCompany, { fact: 'target', path: '$.company.moduleActive', operator: 'equal', value: true }] }, event: { type: 'ok' } },
    { name: 'callback-required', conditions: { any: [sameCompany, { fact: 'connection', path: '$.hasCallback', operator: 'equal', value: true }] }, event: { type: 'ok' } },
  ],
  { allowUndefinedFacts: true },
);
const jsonRules = async () => (await engine.run(facts)).failureEvents.length === 0;

type Candidate = { name: string; run: () => boolean | Promise<boolean>; async: boolean };
const candidates: Candidate[] = [
  { name: 'product evaluator (a)', run: product, async: false },
  { name: 'raw cel-js (b)', run: rawCel, async: false },
  { name: 'json-rules-engine (c)', run: jsonRules, async: true },
];

async function measure(c: Candidate, ms: number): Promise<number> {
  let n = 0;
  let sink = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    if (c.async) for (let i = 0; i < 50; i++) sink += (await c.run()) ? 1 : 0;
    else for (let i = 0; i < 2000; i++) sink += (c.run() as boolean) ? 1 : 0;
    n += c.async ? 50 : 2000;
    elapsed = performance.now() - started;
  }
  if (sink !== n) throw new Error(`${c.name} refused an invitation that every guard allows`);
  return n / (elapsed / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);

for (const c of candidates) await measure(c, 1000); // warm-up: let V8 optimise every path
const results = new Map(candidates.map((c) => [c.name, [] as number[]]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of candidates) results.get(c.name)!.push(await measure(c, ROUND_MS));
}

const [a, b, c] = candidates.map((x) => median(results.get(x.name)!)) as [number, number, number];
console.log(`invitation guards (${guards.length} CEL expressions), ${ROUNDS} rounds of ${ROUND_MS} ms, median evaluations/s:`);
for (const x of candidates) console.log(`  ${x.name.padEnd(24)}${fmt(median(results.get(x.name)!))}`);
const aOverC = a / c;
const aOverB = a / b;
console.log(`  a/c = ${aOverC.toFixed(1)}×  (target ≥ 30×)  ${aOverC >= 30 ? 'ok' : 'MISSED'}`);
console.log(`  a/b = ${aOverB.toFixed(2)}×  (target ≥ 0.9×) ${aOverB >= 0.9 ? 'ok' : 'MISSED'}`);
if (aOverC < 30 || aOverB < 0.9) process.exitCode = 1;
