/**
 * A machine graph drawn as a self-contained SVG (no browser, no layout library): our machines are
 * a handful of states, so a layered left-to-right layout is enough and keeps the picture stable
 * from one run to the next. States are ranked by their distance from the initial state (one column
 * per rank); transitions between the same two states share one label block; a transition back to
 * an earlier column curves below, one to its own state loops above. Elements carry `data-state` and
 * `data-edge` so the /machines page can highlight them. Pure.
 */
import type { GraphEdge, MachineGraph } from './graph.ts';

/** Extra lines drawn under an edge's `event [guard]` (the rules and mails that govern it). */
export interface EdgeNote {
  text: string;
  kind: 'effect' | 'rule' | 'mail';
}

const BOX_W = 150;
const BOX_H = 46;
const COL_GAP = 390;
const ROW_GAP = 150;
const LINE = 15;
const MARGIN = { left: 70, top: 130, right: 190, bottom: 80 };

const STYLE = `
.machine text { font-family: system-ui, 'Segoe UI', sans-serif; }
.machine .state rect { fill: #f4f7fb; stroke: #36506c; stroke-width: 1.6; }
.machine .state.final rect.inner { fill: none; stroke: #36506c; stroke-width: 1; }
.machine .state text { font-size: 16px; font-weight: 600; fill: #1d2b3a; text-anchor: middle; dominant-baseline: central; }
.machine .edge path { fill: none; stroke: #6b7c8f; stroke-width: 1.4; }
.machine .edge text { font-size: 12.5px; fill: #26323f; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; }
.machine .edge text .rule { fill: #9a3412; font-size: 11.5px; }
.machine .edge text .mail { fill: #1d4ed8; font-size: 11.5px; }
.machine .edge text .effect { fill: #4b5563; font-size: 11.5px; }
.machine .start { fill: #1d2b3a; }
`;

export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Box { x: number; y: number; cx: number; cy: number }

/** Column of each state: its distance (in transitions) from the initial state. */
function ranks(graph: MachineGraph): Map<string, number> {
  const rank = new Map([[graph.initial, 0]]);
  const queue = [graph.initial];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const e of graph.edges) {
      if (e.from === from && !rank.has(e.to)) {
        rank.set(e.to, rank.get(from)! + 1);
        queue.push(e.to);
      }
    }
  }
  let last = Math.max(...rank.values());
  for (const s of graph.states) if (!rank.has(s.key)) rank.set(s.key, ++last); // unreachable: drawn last
  return rank;
}

/**
 * Columns by rank; in its column each state takes the row of its first predecessor if free, else
 * the next free row below — so a chain of states reads as a straight line.
 */
function layout(graph: MachineGraph): { boxes: Map<string, Box>; width: number; height: number } {
  const rank = ranks(graph);
  // Breadth-first discovery order, a column's final states after the others: the main path on top.
  const finals = new Set(graph.states.filter((s) => s.final).map((s) => s.key));
  const order = [...rank.keys()].sort((a, b) => rank.get(a)! - rank.get(b)! || Number(finals.has(a)) - Number(finals.has(b)));
  const row = new Map<string, number>();
  const taken = new Set<string>();
  for (const key of order) {
    const r = rank.get(key)!;
    const preds = graph.edges.filter((e) => e.to === key && e.from !== key && rank.get(e.from)! < r && row.has(e.from)).map((e) => row.get(e.from)!);
    let i = preds.length > 0 ? Math.min(...preds) : 0;
    while (taken.has(`${r}:${i}`)) i++;
    taken.add(`${r}:${i}`);
    row.set(key, i);
  }
  const rows = Math.max(...row.values()) + 1;
  const boxes = new Map<string, Box>();
  for (const key of order) {
    const x = MARGIN.left + rank.get(key)! * COL_GAP;
    const cy = MARGIN.top + row.get(key)! * ROW_GAP + BOX_H / 2;
    boxes.set(key, { x, y: cy - BOX_H / 2, cx: x + BOX_W / 2, cy });
  }
  return {
    boxes,
    width: MARGIN.left + Math.max(...rank.values()) * COL_GAP + BOX_W + MARGIN.right,
    height: MARGIN.top + (rows - 1) * ROW_GAP + BOX_H + MARGIN.bottom,
  };
}

/**
 * The path of a group of edges between two states, and the centre of its label block. `up`: the
 * block grows upwards from there (a loop's label sits above it).
 */
function route(a: Box, b: Box, rankA: number, rankB: number, twoWay: boolean): { d: string; lx: number; ly: number; up: boolean } {
  if (a === b) {
    const top = a.y;
    return { d: `M ${a.cx - 22} ${top} C ${a.cx - 50} ${top - 60}, ${a.cx + 50} ${top - 60}, ${a.cx + 22} ${top}`, lx: a.cx, ly: top - 50, up: true };
  }
  if (rankA === rankB) {
    // Same column: straight down (or up), label beside the line.
    const down = b.cy > a.cy;
    const [y1, y2] = down ? [a.y + BOX_H, b.y] : [a.y, b.y + BOX_H];
    return { d: `M ${a.cx + 30} ${y1} L ${b.cx + 30} ${y2}`, lx: a.cx + 30 + 70, ly: (y1 + y2) / 2, up: false };
  }
  if (rankB > rankA && !twoWay) {
    const [x1, y1, x2, y2] = [a.x + BOX_W, a.cy, b.x, b.cy];
    const dx = (x2 - x1) / 2;
    // Label at t = 0.6 of the curve: edges fanning out of one state are apart by then.
    const t = 0.6;
    const ly = y1 + (y2 - y1) * (3 * (1 - t) * t ** 2 + t ** 3);
    const lx = (1 - t) ** 3 * x1 + 3 * (1 - t) ** 2 * t * (x1 + dx) + 3 * (1 - t) * t ** 2 * (x2 - dx) + t ** 3 * x2;
    return { d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`, lx, ly, up: false };
  }
  // Back to an earlier column, or one way of a pair of states linked both ways: an arc bulging to
  // the left of its direction, so the two ways of a pair part.
  const forward = rankB > rankA;
  const [x1, y1, x2, y2] = forward ? [a.x + BOX_W, a.cy - 8, b.x, b.cy - 8] : [a.x, a.cy + 8, b.x + BOX_W, b.cy + 8];
  const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
  const len = Math.hypot(x2 - x1, y2 - y1);
  const [nx, ny] = [-(y2 - y1) / len, (x2 - x1) / len];
  const bulge = twoWay ? 40 : 60;
  const [cx, cy] = [mx + nx * bulge * 2, my + ny * bulge * 2];
  return { d: `M ${x1} ${y1} Q ${cx} ${cy}, ${x2} ${y2}`, lx: mx + nx * bulge, ly: my + ny * (bulge + 10), up: ny < 0 };
}

/**
 * The machine as SVG. `labelOf` gives an edge's first line (default `event [guard]`), `notesOf`
 * the rules and mails drawn under it.
 */
export function toSvg(
  graph: MachineGraph,
  options: { labelOf?: (edge: GraphEdge) => string; notesOf?: (edge: GraphEdge) => EdgeNote[]; title?: string } = {},
): string {
  const { boxes, width, height } = layout(graph);
  const rank = ranks(graph);
  const labelOf = options.labelOf ?? ((e: GraphEdge) => `${e.event}${e.guard ? ` [${e.guard}]` : ''}`);
  const marker = `arrow-${graph.id}`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="machine" data-machine="${escapeXml(graph.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`,
    `<title>${escapeXml(options.title ?? `${graph.id} lifecycle`)}</title>`,
    `<style>${STYLE}</style>`,
    `<defs><marker id="${marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7c8f"/></marker></defs>`,
  ];
  const start = boxes.get(graph.initial)!;
  out.push(`<circle class="start" cx="${start.x - 40}" cy="${start.cy}" r="7"/>`);
  out.push(`<g class="edge"><path d="M ${start.x - 33} ${start.cy} L ${start.x} ${start.cy}" marker-end="url(#${marker})"/></g>`);

  const groups = new Map<string, GraphEdge[]>();
  for (const e of graph.edges) groups.set(`${e.from}>${e.to}`, [...(groups.get(`${e.from}>${e.to}`) ?? []), e]);
  for (const edges of groups.values()) {
    const { from, to } = edges[0]!;
    const r = route(boxes.get(from)!, boxes.get(to)!, rank.get(from)!, rank.get(to)!, groups.has(`${to}>${from}`));
    const lines = edges.flatMap((e) => [
      { text: labelOf(e), cls: '', edge: e.id },
      ...(options.notesOf?.(e) ?? []).map((n) => ({ text: n.text, cls: n.kind, edge: e.id })),
    ]);
    const y0 = r.up ? r.ly - (lines.length - 1) * LINE : r.ly - ((lines.length - 1) * LINE) / 2 + 4;
    out.push(`<g class="edge" data-from="${escapeXml(from)}" data-to="${escapeXml(to)}">`);
    out.push(`<path d="${r.d}" marker-end="url(#${marker})"/>`);
    out.push('<text text-anchor="middle">');
    lines.forEach((l, i) => {
      out.push(`<tspan x="${r.lx.toFixed(1)}" y="${(y0 + i * LINE).toFixed(1)}" data-edge="${escapeXml(l.edge)}"${l.cls ? ` class="${l.cls}"` : ''}>${escapeXml(l.text)}</tspan>`);
    });
    out.push('</text></g>');
  }

  for (const s of graph.states) {
    const b = boxes.get(s.key)!;
    out.push(`<g class="state${s.final ? ' final' : ''}" data-state="${escapeXml(s.key)}">`);
    out.push(`<rect x="${b.x}" y="${b.y}" width="${BOX_W}" height="${BOX_H}" rx="10"/>`);
    if (s.final) out.push(`<rect class="inner" x="${b.x + 4}" y="${b.y + 4}" width="${BOX_W - 8}" height="${BOX_H - 8}" rx="7"/>`);
    out.push(`<text x="${b.cx}" y="${b.cy}">${escapeXml(s.key)}</text></g>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
