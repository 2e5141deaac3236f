/**
 * The fuzzer and the OpenAPI validator come from PyPI, pinned, into a virtual environment under
 * .tools/fuzz (gitignored), installed on first use like the Temporal CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PINS = ['schemathesis==4.32.5', 'openapi-spec-validator==0.9.0'];
const VENV = path.resolve('.tools/fuzz');
const bin = (name: string) => path.join(VENV, 'bin', name);

export function ensureTools(log: (line: string) => void): void {
  const stamp = path.join(VENV, 'pins.txt');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === PINS.join('\n')) return;
  log(`installing ${PINS.join(', ')} into ${VENV}`);
  const quietly = (file: string, args: string[]) => {
    try {
      execFileSync(file, args, { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`${file} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  };
  quietly('python3', ['-m', 'venv', VENV]);
  quietly(bin('python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PINS]);
  writeFileSync(stamp, PINS.join('\n'));
}

/** Validates an OpenAPI 3.1 document file with openapi-spec-validator; throws with its report. */
export function validateOpenApi31(file: string): string {
  try {
    return execFileSync(bin('openapi-spec-validator'), ['--schema', '3.1', file], { encoding: 'utf8' }).trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`the OpenAPI document is not valid OpenAPI 3.1:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export interface SchemathesisRun {
  label: string;
  configFile: string;
  schemaUrl: string;
  key: string;
  mode: 'positive' | 'negative';
  seconds: number;
  include: string[];
  reportFile: string;
  seed: number;
}

/** Runs `st run` and resolves with its exit code (0: no failures); its output goes to `log`. */
export function runSchemathesis(r: SchemathesisRun, log: (chunk: string) => void): Promise<number> {
  const args = [
    '--config-file', r.configFile,
    'run', r.schemaUrl,
    '--mode', r.mode,
    '--checks', 'all',
    '--max-time', String(r.seconds),
    '--seed', String(r.seed),
    // One worker: hypothesis' lambda introspection is not thread-safe on Python 3.11 (AST recursion errors).
    '--workers', '1',
    '--header', `Authorization: Bearer ${r.key}`,
    '--report', 'junit', '--report-junit-path', r.reportFile,
    '--generation-database', ':memory:', // nothing kept between runs (and nothing in the work tree)
    '--no-color',
    ...r.include,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin('st'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
    child.stdout.on('data', (c: Buffer) => log(c.toString()));
    child.stderr.on('data', (c: Buffer) => log(c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
