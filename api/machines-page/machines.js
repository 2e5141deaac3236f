// The /machines page: diagrams, simulator and live view over the API's read-only endpoints.
// Plain browser JavaScript served by the API itself: no build step, no library, no other host.
'use strict';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
};
const short = (version) => (version ? version.slice(0, 12) : '—');

const page = { data: null, sim: { machine: 'connection' } };

/** Fetches JSON from the API; an error answer becomes an Error carrying its status and code. */
async function api(path, options = {}) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = new Error(body?.error ? `${res.status} ${body.error.code}: ${body.error.message}` : `${res.status}`);
    error.status = res.status;
    throw error;
  }
  return body;
}

/** Puts an SVG drawn by our own server into a container, the given state highlighted. */
function drawSvg(container, svg, current) {
  container.innerHTML = svg; // our own server's drawing, every text in it escaped there
  if (current) container.querySelector(`.state[data-state="${CSS.escape(current)}"]`)?.classList.add('current');
}

/** A machine as the version picked at the top of the page draws it. */
const draw = (container, machineName, current) => drawSvg(container, page.data.machines.find((m) => m.name === machineName).svg, current);

// ── diagrams ─────────────────────────────────────────────────────────────────────────────────
function renderCards() {
  const cards = $('machine-cards');
  cards.replaceChildren();
  for (const machine of page.data.machines) {
    const drawing = el('div', { className: 'drawing' });
    const rows = machine.edges.map((e) =>
      el('tr', {},
        el('td', {}, `${e.from} → ${e.to}`),
        el('td', {}, el('code', {}, e.event), e.guard ? ` [${e.guard}]` : ''),
        el('td', {}, ...e.rules.map((r) => el('div', { className: 'rule' }, el('code', {}, r.id), ` ${r.code}: ${r.message}`))),
        el('td', { className: 'mail' }, e.notify ? (e.mail ?? 'no mail') : ''),
      ));
    const table = el('table', {}, el('thead', {}, el('tr', {}, ...['transition', 'event [guard]', 'rules that may refuse it', 'mail'].map((h) => el('th', {}, h)))), el('tbody', {}, ...rows));
    const card = el('article', { className: 'card' }, el('h2', {}, `The ${machine.name}`), drawing, el('details', {}, el('summary', {}, 'Every transition with its rules and mail'), table));
    card.dataset.machine = machine.name;
    cards.append(card);
    draw(drawing, machine.name, null);
  }
}

// ── simulator ────────────────────────────────────────────────────────────────────────────────
const SCENARIOS = {
  connection: [
    ['sameCompany', 'same contracting company', true],
    ['sourceModuleActive', 'module on for the source', true],
    ['targetModuleActive', "module on for the target's company", true],
    ['hasCallback', 'callback given', false],
    ['offerAccess', 'offer access on', true],
  ],
  cart: [
    ['externalItem', 'holds a mandatory external offer', true],
    ['externalAvailable', 'that offer can be sold now', true],
  ],
};
const START_STATE = { connection: 'screening', cart: 'draft' };
const simMachine = () => page.data.machines.find((m) => m.name === page.sim.machine);

function renderSimulator(keepState) {
  const machine = simMachine();
  const machineSelect = $('sim-machine');
  machineSelect.replaceChildren(...page.data.machines.map((m) => el('option', { value: m.name, textContent: m.name, selected: m.name === machine.name })));
  const stateSelect = $('sim-state');
  const current = keepState ? stateSelect.value : START_STATE[machine.name];
  stateSelect.replaceChildren(...machine.states.map((s) => el('option', { value: s.key, textContent: s.key + (s.final ? ' (final)' : ''), selected: s.key === current })));
  const actors = [...machine.roles, 'stranger', 'system'];
  $('sim-actor').replaceChildren(...actors.map((a) => el('option', { value: a, textContent: a })));
  if (!keepState) {
    const fields = SCENARIOS[machine.name].map(([name, label, value]) =>
      el('label', {}, el('input', { type: 'checkbox', name, checked: value }), ` ${label}`));
    if (machine.name === 'connection') {
      fields.push(el('label', {}, 'blocked by ', el('select', { name: 'blockedBy' }, ...['none', 'source', 'target'].map((v) => el('option', { value: v, textContent: v })))));
    }
    $('sim-scenario').replaceChildren(el('legend', {}, 'Facts'), ...fields);
    $('sim-log').replaceChildren();
    $('sim-result').replaceChildren();
  }
  renderSimEvents();
}

function renderSimEvents() {
  const machine = simMachine();
  const state = $('sim-state').value;
  const events = [...new Set([...machine.edges.map((e) => e.event), ...machine.commands.map((c) => c.name)])].filter((e) => !e.startsWith('('));
  const here = new Set(machine.edges.filter((e) => e.from === state).map((e) => e.event));
  $('sim-events').replaceChildren(...events.map((event) => {
    const button = el('button', { type: 'button', textContent: event, className: here.has(event) ? 'possible' : '', title: here.has(event) ? `${event} has a transition from ${state}` : `no transition of ${event} from ${state}` });
    button.dataset.event = event;
    button.addEventListener('click', () => simulate(event));
    return button;
  }));
  draw($('sim-drawing'), machine.name, state);
}

function scenario() {
  const out = {};
  for (const input of $('sim-scenario').querySelectorAll('input[type=checkbox]')) out[input.name] = input.checked;
  const blocked = $('sim-scenario').querySelector('select[name=blockedBy]');
  if (blocked) out.blockedBy = blocked.value === 'none' ? null : blocked.value;
  return out;
}

function applyScenario(values) {
  for (const [name, value] of Object.entries(values)) {
    const input = $('sim-scenario').querySelector(`[name="${name}"]`);
    if (!input) continue;
    if (input.type === 'checkbox') input.checked = value;
    else input.value = value ?? 'none';
  }
}

async function simulate(event) {
  const machine = simMachine();
  const body = { ruleSetVersion: page.data.ruleSet.version, state: $('sim-state').value, event, actor: $('sim-actor').value, scenario: scenario() };
  const result = $('sim-result');
  try {
    const r = await api(`/v1/machines/${machine.name}/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let line;
    if (r.outcome === 'moved') {
      const mails = r.mails.map((m) => `mail ${m.template} to ${m.to}`);
      line = el('span', { className: 'moved' }, `${body.actor}: ${event} — ${r.from} → ${r.to}${[...r.effects, ...mails].length ? ` (${[...r.effects, ...mails].join(', ')})` : ''}`);
      $('sim-state').value = r.to;
      applyScenario(r.scenario);
    } else {
      const who = r.refusal.by === 'rule' ? `rule ${r.refusal.rule}` : 'the machine';
      line = el('span', { className: 'refused' }, `${body.actor}: ${event} refused by ${who} — ${r.refusal.code}: ${r.refusal.message}`);
    }
    result.replaceChildren(line);
    result.dataset.outcome = r.outcome;
    result.dataset.rule = r.refusal?.rule ?? '';
    $('sim-log').append(el('li', {}, line.textContent));
    renderSimEvents();
  } catch (error) {
    result.replaceChildren(el('span', { className: 'refused' }, error.message));
  }
}

// ── live ─────────────────────────────────────────────────────────────────────────────────────
async function showLive(submitEvent) {
  submitEvent?.preventDefault();
  const key = $('live-key').value.trim();
  const id = $('live-id').value.trim();
  sessionStorage.setItem('ccx-machines-key', key);
  $('live-error').hidden = true;
  $('live-view').hidden = true;
  if (!id) return;
  try {
    const live = await api(`/v1/machines/live/${encodeURIComponent(id)}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    renderLive(live);
  } catch (error) {
    $('live-error').textContent = error.message;
    $('live-error').hidden = false;
  }
}

function renderLive(live) {
  $('live-kind').textContent = `${live.kind} ${live.id}`;
  $('live-state').textContent = live.state.value;
  $('live-version').textContent = String(live.state.version);
  const pinned = live.pinnedRuleSet;
  $('live-pinned').textContent = pinned
    ? `${pinned.name} ${short(pinned.version)}${pinned.version === live.activeRuleSetVersion ? ' (the active one)' : ` (not the active one, ${short(live.activeRuleSetVersion)})`}`
    : `${short(live.state.ruleSetVersion)} (never published here: its rules are neither drawn nor checked)`;
  $('live-pinned').dataset.version = pinned?.version ?? '';
  $('live-warnings').replaceChildren(...live.warnings.map((w) => el('li', { textContent: w })));
  $('live-warnings').hidden = live.warnings.length === 0;
  $('live-workflow').textContent = `${live.workflowId} · run ${live.runId} · ${live.runStatus}`;
  const link = $('live-temporal');
  link.hidden = !live.temporalUiUrl;
  if (live.temporalUiUrl) link.href = live.temporalUiUrl;
  // Drawn with the rules of the version it is pinned to, whatever version the page shows above.
  drawSvg($('live-drawing'), live.svg, live.state.value);
  // What may happen now first, then what would be refused and why.
  const possible = [...live.possible].sort((a, b) => Number(b.allowed) - Number(a.allowed));
  $('live-possible').replaceChildren(...possible.map((p) => {
    const row = el('tr', {},
      el('td', {}, el('code', {}, p.event)),
      el('td', {}, p.role + (p.clientId ? ` (${p.clientId})` : '')),
      el('td', { className: p.allowed ? (p.guards === 'unknown' ? 'unchecked' : 'yes') : 'no' }, p.allowed
        ? (p.guards === 'unknown' ? 'possible for the machine; its rules not checked' : 'possible')
        : `${p.refusal.code}${p.refusal.rule ? ` (rule ${p.refusal.rule})` : ''}: ${p.refusal.message}`));
    row.dataset.allowed = String(p.allowed);
    row.dataset.guards = p.guards;
    return row;
  }));
  $('live-history').replaceChildren(...live.history.map((h) =>
    el('li', {}, el('time', { textContent: h.at ? new Date(h.at).toLocaleString() : '' }), `${h.event}${h.actor ? ` by ${h.actor}` : ''}${h.to ? ` — ${h.from ?? 'start'} → ${h.to}` : ''}`)));
  $('live-view').hidden = false;
}

// ── wiring ───────────────────────────────────────────────────────────────────────────────────
async function load(version) {
  try {
    page.data = await api(`/v1/machines${version ? `?ruleSetVersion=${encodeURIComponent(version)}` : ''}`);
  } catch (error) {
    $('load-error').textContent = `The machines could not be loaded: ${error.message}`;
    $('load-error').hidden = false;
    return;
  }
  $('rule-set').replaceChildren(...page.data.versions.map((v) =>
    el('option', { value: v.version, selected: v.version === page.data.ruleSet.version, textContent: `${v.name ?? 'unnamed'} ${short(v.version)}${v.active ? ' (active)' : ''}` })));
  renderCards();
  renderSimulator(Boolean(version));
}

document.addEventListener('DOMContentLoaded', () => {
  $('rule-set').addEventListener('change', (e) => void load(e.target.value));
  $('sim-machine').addEventListener('change', (e) => { page.sim.machine = e.target.value; renderSimulator(false); });
  $('sim-state').addEventListener('change', renderSimEvents);
  $('live-form').addEventListener('submit', (e) => void showLive(e));
  $('live-key').value = sessionStorage.getItem('ccx-machines-key') ?? '';
  const id = new URLSearchParams(location.search).get('id');
  if (id) $('live-id').value = id;
  void load(null).then(() => (id && $('live-key').value ? showLive() : undefined));
});
