import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connectionMachine } from '../machines/connection.machine.ts';
import { toMermaid } from '../machines/diagram.ts';

/** Every machine the product has, by file name. */
export const machines = { connection: connectionMachine };

export async function writeDiagrams(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, machine] of Object.entries(machines)) {
    const file = path.join(dir, `${name}.mmd`);
    await writeFile(file, toMermaid(machine));
    written.push(file);
  }
  return written;
}
