/**
 * Turns "what is wrong where in the data" into "where in the file": finds the YAML node of a
 * path, the key of an unknown field, or the character of a CEL problem inside a scalar.
 */
import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { makeError, SourceLines, type RulesError, type RulesErrorCode, type RulesWarning, type RulesWarningCode } from './errors.ts';
import { formatPath, type Path } from './schema.ts';
import { fileOffset, scalarOffsetMap } from './yaml-scalar.ts';

export interface Problem {
  code: RulesErrorCode;
  message: string;
  hint?: string;
  /** Point at this key of the map at the path (an unknown field). */
  key?: string;
  /** The value at the path is absent: point at the nearest enclosing node. */
  missing?: boolean;
  /** A range inside the scalar's value (a CEL error), in value characters. */
  inValue?: { start: number; end: number };
}

const keyOf = (pair: Pair): unknown => (isScalar(pair.key) ? pair.key.value : pair.key);

export class Locator {
  readonly errors: RulesError[] = [];
  readonly warnings: RulesWarning[] = [];
  private readonly lines: SourceLines;
  private readonly maps = new Map<Scalar, number[] | null>();

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly doc: Document.Parsed,
  ) {
    this.lines = new SourceLines(src);
  }

  /** The deepest node along `path` (the node itself when it exists). */
  nodeAt(path: Path): { node: Node | null; complete: boolean } {
    let node = this.doc.contents as Node | null;
    for (const segment of path) {
      let next: unknown;
      if (isMap(node)) next = node.items.find((p) => keyOf(p) === segment)?.value;
      else if (isSeq(node) && typeof segment === 'number') next = node.items[segment];
      if (!next || typeof next !== 'object') return { node, complete: false };
      node = next as Node;
    }
    return { node, complete: true };
  }

  report(path: Path, problem: Problem): void {
    const [start, end] = this.rangeOf(path, problem);
    this.errors.push(
      makeError(this.lines, this.file, {
        code: problem.code,
        message: problem.message,
        path: formatPath(problem.key === undefined ? path : [...path, problem.key]),
        start,
        end,
        ...(problem.hint ? { hint: problem.hint } : {}),
      }),
    );
  }

  /** A warning at the key that ends `path` (or the deepest existing node on the way). */
  warn(path: Path, code: RulesWarningCode, message: string, hint?: string): void {
    const [start, end] = this.rangeOf(path.slice(0, -1), { code: 'RULES_MISSING_FIELD', message, key: path.at(-1) as string });
    this.warnings.push(makeError(this.lines, this.file, { code, message, path: formatPath(path), start, end, ...(hint ? { hint } : {}) }));
  }

  /** An error at a raw file range (YAML syntax errors). */
  reportAt(code: RulesErrorCode, message: string, start: number, end: number): void {
    this.errors.push(makeError(this.lines, this.file, { code, message, path: '(document)', start, end }));
  }

  private rangeOf(path: Path, problem: Problem): [number, number] {
    const { node, complete } = this.nodeAt(path);
    if (!node) return [0, 0];
    if (problem.key !== undefined && complete && isMap(node)) {
      const pair = node.items.find((p) => keyOf(p) === problem.key);
      const range = (pair?.key as Node | undefined)?.range;
      if (range) return [range[0], range[1]];
    }
    const range = node.range ?? [0, 0, 0];
    if (problem.missing || !complete) return [range[0], range[0]];
    if (problem.inValue && isScalar(node)) {
      if (!this.maps.has(node)) this.maps.set(node, scalarOffsetMap(this.src, node));
      const map = this.maps.get(node) ?? null;
      if (!map) return [range[0], range[1]];
      const from = fileOffset(this.src, node, problem.inValue.start, map);
      const to = fileOffset(this.src, node, Math.max(problem.inValue.start, problem.inValue.end - 1), map) + 1;
      return [from, Math.max(from, to)];
    }
    return [range[0], range[1]];
  }

  sorted(): RulesError[] {
    return [...this.errors].sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
  }
}
