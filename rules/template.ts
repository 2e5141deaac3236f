/**
 * Message templates: literal text with `{{ expr }}` parts, where `expr` is CEL over the facts of
 * the rule's event (`{{ target.name }}`, `{{ string(size(cart.items)) }}`). A literal `{{` is
 * written `{{ "{{" }}`. An expression ends at the first `}}`. Pure (shared by loader and evaluator).
 */

export type TemplatePart =
  | { kind: 'text'; text: string }
  /** `offset`: where the expression text starts inside the message (for error positions). */
  | { kind: 'expr'; source: string; offset: number };

export type TemplateParse = { ok: true; parts: TemplatePart[] } | { ok: false; offset: number; reason: string };

export function parseTemplate(message: string): TemplateParse {
  const parts: TemplatePart[] = [];
  let at = 0;
  while (at < message.length) {
    const open = message.indexOf('{{', at);
    if (open < 0) break;
    if (open > at) parts.push({ kind: 'text', text: message.slice(at, open) });
    const close = message.indexOf('}}', open + 2);
    if (close < 0) return { ok: false, offset: open, reason: 'unterminated `{{` in message: close it with `}}`' };
    const raw = message.slice(open + 2, close);
    const lead = raw.length - raw.trimStart().length;
    const source = raw.trim();
    if (source === '') return { ok: false, offset: open, reason: 'empty `{{ }}` in message' };
    parts.push({ kind: 'expr', source, offset: open + 2 + lead });
    at = close + 2;
  }
  if (at < message.length) parts.push({ kind: 'text', text: message.slice(at) });
  return { ok: true, parts };
}

/** How an interpolated CEL value reads in a message: no `n` suffix on integers, no quotes. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '';
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
