/**
 * Real `ccx worker` processes for crash tests: started against the run's Temporal server and
 * database, resolved once they poll their task queue, killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import type { TestEngine } from './engine.ts';

export interface WorkerProcesses {
  start(env?: Record<string, string>): Promise<ChildProcess>;
  kill(child: ChildProcess): Promise<void>;
  /** Everything the process printed so far (stdout and stderr; stderr is also passed through). */
  outputOf(child: ChildProcess): string;
  /** SIGKILLs every process still alive (afterAll). */
  killAll(): void;
}

export function workerProcesses(engine: () => TestEngine): WorkerProcesses {
  const children: ChildProcess[] = [];
  const output = new Map<ChildProcess, string[]>();
  return {
    async start(env = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', 'worker'], {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          TEMPORAL_NAMESPACE: engine().namespace,
          DATABASE_URL: inject('databaseUrl'),
          SMTP_URL: engine().smtp.url,
          // A sender the boot check accepts (the default no-reply@ccx.invalid is refused with SMTP_URL set).
          CCX_MAIL_FROM: 'Verlag Test <no-reply@verlag-test.de>',
          // A killed worker's claimed mails are taken over after this (60 s in production).
          CCX_MAIL_LEASE_MS: '4000',
          CCX_TASK_QUEUE: engine().taskQueue,
          // The key the test stack's API sealed callback secrets with: this worker signs with them.
          CCX_SECRET_KEY: engine().secretKey.toString('hex'),
          CCX_ALLOW_INSECURE_CALLBACKS: '1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const printed: string[] = [];
      output.set(child, printed);
      child.stdout!.on('data', (chunk: Buffer) => printed.push(chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => {
        printed.push(chunk.toString());
        process.stderr.write(chunk);
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('worker polling')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
      });
      return child;
    },
    kill(child) {
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    outputOf(child) {
      return (output.get(child) ?? []).join('');
    },
    killAll() {
      for (const child of children) child.kill('SIGKILL');
    },
  };
}
