/**
 * The product's own processes, as it scales out: `ccx worker` and `ccx api` (node + tsx, the
 * same entry as `npx tsx cli/ccx.ts …`), each with its log file in the run's temp dir. A process
 * is "ready" once it prints its readiness line. The suite kills a process only on purpose
 * (`kill`); any other exit is recorded as unexpected — stopping one part must not take another
 * down — and the process is started again (retrying while its dependencies are down), so the
 * remaining checks still mean something.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { elapsed, errorText, log, sleep } from './util.ts';

export type Kind = 'worker' | 'api';

export interface UnexpectedExit {
  name: string;
  at: number;
  code: number | null;
  signal: string | null;
  /** The last lines the process wrote (its own explanation). */
  tail: string;
}

const READY: Record<Kind, string> = { worker: 'worker polling', api: 'HTTP API on' };

export class CcxProcess {
  private child: ChildProcess | undefined;
  private out: WriteStream;
  private readySince: number | undefined;
  private killing = false;
  private closed = false;
  private restarting: Promise<void> | undefined;
  private tail: string[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Each start: when it was asked for and when it was ready (ms epoch). */
  readonly starts: Array<{ requestedAt: number; readyAt?: number }> = [];

  constructor(
    readonly kind: Kind,
    readonly name: string,
    private readonly repoRoot: string,
    private readonly env: Record<string, string>,
    logDir: string,
  ) {
    this.out = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  }

  get ready(): boolean {
    return this.readySince !== undefined && this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it is ready; rejects if it exits first or takes > 120 s. */
  start(): Promise<void> {
    const entry = { requestedAt: Date.now() } as { requestedAt: number; readyAt?: number };
    this.starts.push(entry);
    this.killing = false;
    this.readySince = undefined;
    this.out.write(`--- ${elapsed()}s start ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', this.kind], {
      cwd: this.repoRoot,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready after 120 s`)), 120_000);
      const onLine = (chunk: Buffer) => {
        const text = chunk.toString();
        this.out.write(text);
        this.tail = [...this.tail, ...text.split('\n').filter(Boolean)].slice(-15);
        if (this.readySince === undefined && text.includes(READY[this.kind]) && this.child === child) {
          this.readySince = Date.now();
          entry.readyAt = this.readySince;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onLine);
      child.stderr!.on('data', onLine);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.out.write(`--- ${elapsed()}s exit code=${code} signal=${signal}\n`);
        if (this.child !== child) return;
        const wasReady = this.readySince !== undefined;
        this.readySince = undefined;
        if (!wasReady) reject(new Error(`${this.name} exited before it was ready (code ${code}, signal ${signal}): ${this.tail.slice(-5).join(' | ')}`));
        if (this.killing || this.closed) return;
        if (wasReady) {
          this.unexpectedExits.push({ name: this.name, at: Date.now(), code, signal, tail: this.tail.join('\n') });
          log(`UNEXPECTED: ${this.name} exited (code ${code}, signal ${signal}); starting it again`);
          void this.restartUntilReady();
        }
      });
    });
  }

  /** Starts again and again (2 s apart) until ready or closed: its dependencies may be down. */
  restartUntilReady(): Promise<void> {
    this.restarting ??= (async () => {
      while (!this.closed && !this.ready) {
        try {
          await this.start();
        } catch (err) {
          this.out.write(`--- ${elapsed()}s start failed: ${errorText(err)}\n`);
          await sleep(2000);
        }
      }
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  /** SIGKILL (or another signal) on purpose; resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.killing = true;
    this.readySince = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Final stop: SIGTERM, SIGKILL after 10 s; no restart afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.kill('SIGTERM').catch(() => {});
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}
