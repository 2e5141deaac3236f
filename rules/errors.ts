/**
 * Errors of a rule set: each names file, line and column, carries a stable code and shows the
 * offending line with a caret — the shape of cel-js's own errors, lifted to the YAML file.
 */

export const RULES_ERROR_CODES = [
  'RULES_YAML_SYNTAX', // the YAML itself does not parse (or holds more than one document)
  'RULES_BAD_TYPE', // a value of the wrong YAML type (a map where a list belongs, …)
  'RULES_UNKNOWN_SECTION', // a top-level key that is not a section
  'RULES_UNKNOWN_EVENT', // an event name under guards/notifications that does not exist
  'RULES_UNGUARDABLE_EVENT', // a guard on connection.block or connection.end: a party can always block and leave
  'RULES_UNKNOWN_FIELD', // any other unknown key
  'RULES_MISSING_FIELD', // a required key is absent
  'RULES_BAD_VERSION', // the header's language version is not supported
  'RULES_BAD_VALUE', // a value outside its allowed set not covered below
  'RULES_BAD_CODE', // an error code outside the allow-list
  'RULES_BAD_TEMPLATE', // a mail template that does not exist
  'RULES_BAD_RECIPIENT', // a recipient other than source, target, otherParty
  'RULES_BAD_DURATION', // not an ISO 8601 duration, or outside the allowed range
  'RULES_BAD_ID', // a rule id that is not kebab-case
  'RULES_DUPLICATE_ID', // two rules share an id
  'RULES_BAD_INTERPOLATION', // a message with an unterminated `{{`
  'RULES_CEL_SYNTAX', // an expression that does not parse
  'RULES_CEL_UNKNOWN_NAME', // an expression names a fact or field that does not exist
  'RULES_CEL_TYPE', // an expression that does not type-check, or has the wrong result type
  'RULES_CEL_FORBIDDEN', // a function the rules language leaves out (regular expressions)
  'RULES_LIMIT', // a size, length or depth limit
  'RULES_INVARIANT', // a guard the product always keeps (module, callback across companies) is missing or changed
] as const;
export type RulesErrorCode = (typeof RULES_ERROR_CODES)[number];

/** Warnings: the rule set loads and can be published, but says less than it could. */
export const RULES_WARNING_CODES = [
  'RULES_NOTIFICATION_MISSING', // a lifecycle event that owes a mail is not routed: it sends none
] as const;
export type RulesWarningCode = (typeof RULES_WARNING_CODES)[number];

export interface RulesError {
  code: RulesErrorCode;
  /** One sentence, without position. */
  message: string;
  file: string;
  /** 1-based line and column (UTF-16 code units) of the first offending character. */
  line: number;
  column: number;
  /** 1-based, exclusive end of the offending range (equal to the start for a point). */
  endLine: number;
  endColumn: number;
  /** Where in the document, e.g. `guards.connection.invite[0].require`. */
  path: string;
  hint?: string;
  /** The offending line with a caret under the range, ready to print. */
  excerpt: string;
}

/** A warning has the shape of an error: file, line, column, path, excerpt. */
export type RulesWarning = Omit<RulesError, 'code'> & { code: RulesWarningCode };

/** Line starts of a text, to turn offsets into line/column and back. */
export class SourceLines {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
  }

  position(offset: number): { line: number; column: number } {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - this.starts[lo]! + 1 };
  }

  lineText(line: number): string {
    const start = this.starts[line - 1] ?? this.text.length;
    const next = this.starts[line];
    return this.text.slice(start, next === undefined ? undefined : next - 1).replace(/\r$/, '');
  }
}

export interface ErrorSpec {
  code: RulesErrorCode | RulesWarningCode;
  message: string;
  path: string;
  start: number;
  end?: number;
  hint?: string;
}

export function makeError<C extends RulesErrorCode | RulesWarningCode = RulesErrorCode>(
  lines: SourceLines,
  file: string,
  spec: ErrorSpec & { code: C },
): Omit<RulesError, 'code'> & { code: C } {
  const start = lines.position(spec.start);
  const end = lines.position(Math.max(spec.start, spec.end ?? spec.start));
  const text = lines.lineText(start.line);
  // The caret underlines the range on its first line (at least one character).
  const width = end.line === start.line ? Math.max(1, end.column - start.column) : Math.max(1, text.length - start.column + 1);
  const gutter = String(start.line).length;
  const excerpt =
    `${' '.repeat(gutter)} |\n${start.line} | ${text}\n${' '.repeat(gutter)} | ` +
    `${' '.repeat(Math.max(0, start.column - 1))}${'^'.repeat(width)}`;
  return {
    code: spec.code,
    message: spec.message,
    file,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    path: spec.path,
    ...(spec.hint ? { hint: spec.hint } : {}),
    excerpt,
  };
}

/** `file:line:col CODE message`, the excerpt, and the hint — what `ccx rules check` prints. */
export function formatRulesError(e: RulesError | RulesWarning): string {
  const hint = e.hint ? `\n  hint: ${e.hint}` : '';
  return `${e.file}:${e.line}:${e.column} ${e.code} ${e.message}\n${e.excerpt}${hint}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a third of the word's length, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** The hint for an unknown name: the closest known one, else the list of known ones. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const match = closest(word, candidates);
  return match ? `did you mean \`${match}\`?` : `expected one of: ${candidates.join(', ')}`;
}
