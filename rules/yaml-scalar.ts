/**
 * Where each character of a YAML scalar's *value* sits in the file, so an error at offset 17 of
 * a CEL expression points at the right line and column even when the expression was written as
 * a folded plain scalar, a quoted string with escapes, or a `|`/`>` block. The map is rebuilt
 * from the source and verified against the parsed value; if they disagree (an exotic form), the
 * scalar's start is used instead — a less precise position, never a wrong crash.
 */
import type { Scalar } from 'yaml';

type Built = { text: string; at: number[] };

export function scalarOffsetMap(src: string, node: Scalar): number[] | null {
  const [start, end] = node.range ?? [0, 0];
  const value = typeof node.value === 'string' ? node.value : String(node.value);
  let built: Built;
  switch (node.type) {
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED':
      built = block(src, start, end, node.type === 'BLOCK_FOLDED');
      // Chomping only decides trailing line breaks.
      return built.text.replace(/\n+$/, '') === value.replace(/\n+$/, '') ? built.at : null;
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
      built = flow(src, start + 1, end - 1, node.type);
      break;
    default:
      built = flow(src, start, end, 'PLAIN');
  }
  return built.text === value ? built.at : null;
}

/** File offset of character `i` of the scalar's value (or of the scalar when unmappable). */
export function fileOffset(src: string, node: Scalar, i: number, map = scalarOffsetMap(src, node)): number {
  const start = node.range?.[0] ?? 0;
  if (!map || map.length === 0) return start;
  if (i < map.length) return map[Math.max(0, i)]!;
  return map[map.length - 1]! + (i - map.length + 1);
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ',
  '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

function flow(src: string, from: number, to: number, type: 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'): Built {
  const text: string[] = [];
  const at: number[] = [];
  const literalSpace: boolean[] = [];
  const emit = (s: string, pos: number, isSpace = false) => {
    for (const ch of s.split('')) {
      text.push(ch);
      at.push(pos);
      literalSpace.push(isSpace);
    }
  };
  let i = from;
  while (i < to) {
    const c = src[i]!;
    if (c === '\n' || c === '\r') {
      // Line folding: trailing blanks go, one break becomes a space, n breaks become n-1 newlines.
      while (literalSpace.at(-1)) {
        text.pop();
        at.pop();
        literalSpace.pop();
      }
      let breaks = 0;
      let j = i;
      while (j < to && /[\r\n \t]/.test(src[j]!)) if (src[j++] === '\n') breaks++;
      emit(breaks <= 1 ? ' ' : '\n'.repeat(breaks - 1), i);
      i = j;
    } else if (type === 'QUOTE_DOUBLE' && c === '\\') {
      const e = src[i + 1] ?? '';
      if (e === '\n' || e === '\r') {
        let j = i + 1;
        while (j < to && /[\r\n \t]/.test(src[j]!)) j++;
        i = j; // an escaped line break joins the lines without a space
      } else if (e in HEX_LENGTH) {
        const n = HEX_LENGTH[e]!;
        emit(String.fromCodePoint(parseInt(src.slice(i + 2, i + 2 + n), 16) || 0), i);
        i += 2 + n;
      } else {
        emit(ESCAPES[e] ?? e, i);
        i += 2;
      }
    } else if (type === 'QUOTE_SINGLE' && c === "'" && src[i + 1] === "'") {
      emit("'", i);
      i += 2;
    } else {
      emit(c, i, c === ' ' || c === '\t');
      i++;
    }
  }
  at.push(to); // one past the end: errors at the very end of an expression
  return { text: text.join(''), at };
}

function block(src: string, from: number, to: number, folded: boolean): Built {
  const headerEnd = src.indexOf('\n', from);
  if (headerEnd < 0 || headerEnd >= to) return { text: '', at: [] };
  const lines: Array<{ start: number; text: string }> = [];
  let pos = headerEnd + 1;
  while (pos < to) {
    const nl = src.indexOf('\n', pos);
    const lineEnd = nl < 0 || nl > to ? to : nl;
    lines.push({ start: pos, text: src.slice(pos, lineEnd).replace(/\r$/, '') });
    pos = lineEnd + 1;
  }
  const firstContent = lines.find((l) => l.text.trim() !== '');
  const indent = firstContent ? firstContent.text.length - firstContent.text.trimStart().length : 0;
  const text: string[] = [];
  const at: number[] = [];
  const emit = (s: string, p: number) => {
    for (const ch of s) {
      text.push(ch);
      at.push(p);
    }
  };
  let pendingEmpty = 0;
  let previous: string | null = null;
  for (const line of lines) {
    const content = line.text.slice(indent);
    if (line.text.trim() === '') {
      pendingEmpty++;
      continue;
    }
    const moreIndented = (s: string) => s.startsWith(' ') || s.startsWith('\t');
    if (previous === null) emit('\n'.repeat(pendingEmpty), line.start);
    else if (!folded) emit('\n'.repeat(pendingEmpty + 1), line.start - 1);
    else if (moreIndented(previous) || moreIndented(content)) emit('\n'.repeat(pendingEmpty + 1), line.start - 1);
    else emit(pendingEmpty === 0 ? ' ' : '\n'.repeat(pendingEmpty), line.start - 1);
    for (let k = 0; k < content.length; k++) {
      text.push(content[k]!);
      at.push(line.start + indent + k);
    }
    pendingEmpty = 0;
    previous = content;
  }
  at.push(to);
  return { text: text.join(''), at };
}
