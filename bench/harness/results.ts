/** Results: a dated JSON file per benchmark and bench/results/latest.json holding every benchmark's keys. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../results/', import.meta.url));

/** `headline` (the ratios and shed counts) goes to the top level of latest.json, `result` under the benchmark's name. */
export function writeResults(bench: string, headline: Record<string, unknown>, result: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${bench}-${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(file, `${JSON.stringify({ ...headline, ...result }, null, 2)}\n`);
  const latestFile = `${dir}latest.json`;
  const latest = existsSync(latestFile) ? (JSON.parse(readFileSync(latestFile, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(latestFile, `${JSON.stringify({ ...latest, ...headline, [bench]: { ...headline, ...result } }, null, 2)}\n`);
  return file;
}

/** A fixed-width table: first column left, the rest right-aligned. */
export function printTable(header: string[], rows: Array<Array<string | number | null | undefined>>): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '–' : typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  for (const r of cells) console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '));
}
