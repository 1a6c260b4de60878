/**
 * The dashboard: runs list and start form on the left; the shown run's live scatter, front,
 * hypervolume, progress and the selected candidate on the right. The shown run is core's
 * RunSnapshot, kept by the live connection; everything drawn is derived from its view with core's
 * functions (front, progress, hypervolume, overview, which controls the status machine allows).
 */
import type { RunSnapshot } from '../../src/core/live-feed.js';
import { frontMembers } from '../../src/core/candidates.js';
import { canTransition } from '../../src/core/run-status.js';
import {
  currentFront,
  generationProgress,
  isSurrogateView,
  runOverview,
  type RunOverview,
  type RunView,
} from '../../src/core/run-view.js';
import type { ChanceCheck } from '../../src/core/run-facts.js';
import {
  ApiError,
  controlRun,
  downloadCsv,
  getConfigDefaults,
  getFront,
  getToken,
  listRuns,
  retireRun,
  setToken,
  type ConfigDefaults,
  type FrontRow,
} from './api.js';
import {
  chanceChecks,
  chanceSummary,
  chanceWarning,
  configFacts,
} from '../../src/core/run-facts.js';
import { objectiveLabel } from '../../src/core/objectives.js';
import { EvaluationsTable } from './evaluations-table.js';
import { StudiesPanel } from './studies-panel.js';
import type { HypervolumeAxis } from './hypervolume-chart.js';
import type { OverlayFront } from './scatter.js';
import { CandidatePanel } from './candidate-panel.js';
import { drawCell } from './cell-diagram.js';
import { byId, clear, html } from './dom.js';
import { duration } from './format.js';
import { FrontTable } from './front-table.js';
import { HypervolumeChart } from './hypervolume-chart.js';
import { LiveConnection, type ConnectionStatus } from './live.js';
import { noiseLines } from './noise-line.js';
import { evidenceOf, objectiveAxes } from './objective-axes.js';
import { RunForm } from './run-form.js';
import { RunsList } from './runs-list.js';
import { ScatterPlot } from './scatter.js';
import { WorkersPanel } from './workers-panel.js';
import { generationLabel } from '../../src/core/generation-label.js';

/** When each point was first drawn, for measuring event-to-screen latency (read by the e2e test). */
export interface DrawRecord {
  readonly runId: string;
  readonly index: number;
  /** Server time the evaluation finished (ms since the epoch). */
  readonly finishedAt: number;
  /** Page time the point was put in the DOM (ms since the epoch). */
  readonly drawnAt: number;
}

declare global {
  interface Window {
    robustNas: {
      draws: DrawRecord[];
      /** The shown run as the page holds it. */
      model: () => RunSnapshot | undefined;
      renders: number;
      /** Times the live connection came back after a drop. */
      reconnects: number;
      /** When the live connection was down (ms since the epoch), for the latency figures. */
      outages: { from: number; to?: number }[];
      /** The cell drawing, for checking dense published cells in tests. */
      drawCell: typeof drawCell;
    };
  }
}

const runs = new Map<string, RunOverview>();
let currentRun: string | undefined;
let selected: number | undefined;
let model: RunSnapshot | undefined;
let renderPending = false;

window.robustNas = {
  draws: [],
  model: () => model,
  renders: 0,
  reconnects: 0,
  outages: [],
  drawCell,
};
let wasConnected = false;

const runsList = new RunsList(byId('runs'), (id) => show(id));
const scatter = new ScatterPlot(byId('scatter'), (i) => select(i), byId('scatter-legend'));
const hvChart = new HypervolumeChart(byId('hypervolume'));
const frontTable = new FrontTable(byId('front'), (i) => select(i));
const candidate = new CandidatePanel(byId('candidate'));
const evaluationsTable = new EvaluationsTable(byId('evaluations'), byId('evaluations-count'), (i) =>
  select(i),
);
new WorkersPanel(byId('workers')).start();
const studiesPanel = new StudiesPanel(byId('studies'));
studiesPanel.start();
const runForm = new RunForm((run) => {
  runs.set(run.id, run);
  show(run.id);
});
let configDefaults: ConfigDefaults | undefined;
void runForm.load().then(async () => {
  configDefaults = await getConfigDefaults().catch(() => undefined);
  scheduleRender();
});
let hvAxis: HypervolumeAxis = 'evaluations';
let showDominated = true;
/** Runs whose fronts are drawn over the shown run's, with their fetched fronts. */
const compared = new Map<string, FrontRow[] | undefined>();
const OVERLAY_COLORS = ['#e67e22', '#8e44ad', '#16a085', '#c0392b', '#2c3e50'];

const live = new LiveConnection({
  onState(s) {
    model = s;
    runs.set(s.runId, runOverview(s.view, s.live));
    scheduleRender();
  },
  onOverview(run) {
    runs.set(run.id, run);
    scheduleRender();
  },
  onStatus(status) {
    const outages = window.robustNas.outages;
    const open = outages[outages.length - 1];
    if (status === 'connected') {
      if (wasConnected) window.robustNas.reconnects += 1;
      wasConnected = true;
      if (open && open.to === undefined) open.to = Date.now();
    } else if (wasConnected && (!open || open.to !== undefined)) {
      outages.push({ from: Date.now() });
    }
    showConnection(status);
    if (status === 'unauthorized')
      askForToken('This server needs its access token: enter it above.');
  },
});

/** Shows the token form (a server with a token refused a call or the live feed). */
function askForToken(message: string): void {
  byId('token-box').hidden = false;
  byId('control-error').textContent = message;
  byId<HTMLInputElement>('token').focus();
}

function showConnection(status: ConnectionStatus): void {
  const el = byId('connection');
  el.textContent = status;
  el.className = `connection ${status}`;
  el.dataset.status = status;
}

function show(id: string): void {
  if (id !== currentRun) {
    currentRun = id;
    selected = undefined;
    model = undefined;
    compared.clear();
    scatter.reset();
    history.replaceState(null, '', `#run=${encodeURIComponent(id)}`);
    live.watch(id);
  }
  scheduleRender();
}

function select(index: number): void {
  selected = index;
  scheduleRender();
}

function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function render(): void {
  window.robustNas.renders += 1;
  const sorted = [...runs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  runsList.update(sorted, currentRun);
  const m = model && model.runId === currentRun ? model : undefined;
  const view = m?.view;
  const run = currentRun ? (m ? runOverview(m.view, m.live) : runs.get(currentRun)) : undefined;
  renderHeader(run, view);
  const front = frontOf(view);
  const fresh = scatter.update(view, selected, front, {
    showDominated,
    overlays: view ? overlaysFor(view) : [],
  });
  renderCompare(view);
  const byIndex = new Map((view?.evaluations ?? []).map((e) => [e.index, e]));
  if (m && fresh.length > 0) {
    const drawnAt = performance.timeOrigin + performance.now();
    for (const index of fresh) {
      const r = byIndex.get(index);
      if (r)
        window.robustNas.draws.push({
          runId: m.runId,
          index,
          finishedAt: Date.parse(r.finishedAt),
          drawnAt,
        });
    }
  }
  hvChart.update(view, hvAxis);
  const axes = view ? objectiveAxes(view, isSurrogateView(view)) : [];
  const members = view ? frontMembers(view.evaluations, view.run.config.objectives, front) : [];
  frontTable.update(members, axes, selected);
  byId('front-count').textContent = m ? `${members.length} candidates` : '';
  byId('noise').textContent = view ? noiseLines(view, axes).join('\n') : '';
  const chosen = selected === undefined ? undefined : byIndex.get(selected);
  const chance = view ? chanceOf(view) : [];
  candidate.show(
    chosen,
    chosen ? front.includes(chosen.index) : false,
    evidenceOf(view, chosen),
    chosen ? chance.find((c) => c.hash === chosen.hash) : undefined,
  );
  const firstAttack = view?.run.config.evaluation.attacks[0];
  evaluationsTable.update(
    view?.evaluations ?? [],
    chance,
    view ? isSurrogateView(view) : false,
    firstAttack ? `${firstAttack.name.toUpperCase()} ε=${firstAttack.eps}` : 'adversarial',
  );
}

let chanceCache: { evaluations: RunView['evaluations'] | undefined; checks: ChanceCheck[] } = {
  evaluations: undefined,
  checks: [],
};

/** The chance check of the shown run's candidates, recomputed when its evaluations change. */
function chanceOf(view: RunView): ChanceCheck[] {
  if (chanceCache.evaluations !== view.evaluations) {
    chanceCache = {
      evaluations: view.evaluations,
      checks: chanceChecks(view.run.config, view.evaluations),
    };
  }
  return chanceCache.checks;
}

/** Objective labels of a run, to tell which runs' fronts can be drawn on the same axes. */
function objectivesKey(objectives: RunOverview['objectives']): string {
  return objectives
    .slice(0, 2)
    .map((o) => `${o.direction} ${objectiveLabel(o)}`)
    .join(', ');
}

function overlaysFor(view: RunView): OverlayFront[] {
  const out: OverlayFront[] = [];
  let k = 0;
  for (const [id, rows] of compared) {
    const color = OVERLAY_COLORS[k++ % OVERLAY_COLORS.length]!;
    if (!rows || view.run.config.objectives.length < 2) continue;
    const run = runs.get(id);
    out.push({
      runId: id,
      label: run?.name ? `${run.name} (${id})` : id,
      color,
      points: rows.filter((r) => r.mean.length >= 2).map((r) => ({ x: r.mean[0]!, y: r.mean[1]! })),
    });
  }
  return out;
}

let compareKey = '';

/** The "compare with" picker: other runs with the same first two objectives. */
function renderCompare(view: RunView | undefined): void {
  const box = byId('compare');
  const mine = view ? objectivesKey(view.run.config.objectives) : '';
  const candidates = view
    ? [...runs.values()].filter(
        (r) => r.id !== view.run.id && !r.error && objectivesKey(r.objectives) === mine,
      )
    : [];
  const key = `${view?.run.id}|${candidates.map((r) => r.id).join(',')}|${[...compared.keys()].join(',')}`;
  if (key === compareKey) return;
  compareKey = key;
  clear(box);
  if (!view || view.run.config.objectives.length < 2) return;
  const select = html(
    'select',
    { id: 'compare-select', 'aria-label': 'compare with another run' },
    [
      html('option', { value: '' }, [
        candidates.length > 0
          ? 'overlay another run’s front…'
          : 'no other run with these objectives',
      ]),
      ...candidates
        .filter((r) => !compared.has(r.id))
        .map((r) => html('option', { value: r.id }, [r.name ? `${r.name} · ${r.id}` : r.id])),
    ],
  );
  select.disabled = candidates.length === 0;
  select.addEventListener('change', () => {
    const id = select.value;
    if (!id) return;
    compared.set(id, undefined);
    void refreshOverlay(id);
    scheduleRender();
  });
  box.append(select);
  for (const id of compared.keys()) {
    const chip = html(
      'button',
      { type: 'button', class: 'chip small', 'data-run-id': id, title: 'stop comparing' },
      [`${runs.get(id)?.name ?? id} ×`],
    );
    chip.addEventListener('click', () => {
      compared.delete(id);
      scheduleRender();
    });
    box.append(chip);
  }
}

async function refreshOverlay(id: string): Promise<void> {
  try {
    const rows = await getFront(id);
    if (compared.has(id)) compared.set(id, rows);
  } catch (err) {
    byId('control-error').textContent =
      `cannot read the front of ${id}: ${err instanceof Error ? err.message : String(err)}`;
    compared.delete(id);
  }
  scheduleRender();
}

let frontCache: { evaluations: RunView['evaluations'] | undefined; front: number[] } = {
  evaluations: undefined,
  front: [],
};

/** The current front of the shown run, recomputed only when its evaluations change. */
function frontOf(view: RunView | undefined): number[] {
  if (!view) return [];
  if (frontCache.evaluations !== view.evaluations) {
    frontCache = { evaluations: view.evaluations, front: currentFront(view) };
  }
  return frontCache.front;
}

/** What the run's status means and why a control is greyed out, in one sentence. */
export function controlNote(run: RunOverview): string {
  const elsewhere = run.status === 'running' && !run.live;
  if (elsewhere) {
    return 'Driven by another process (a terminal’s robust-nas search, or another server): pause or stop it there (Ctrl-C pauses it); this page only watches.';
  }
  switch (run.status) {
    case 'running':
      return 'Pause: waits for the evaluations in flight and keeps the run ready to continue. Stop: ends the run for good (it is kept and can still be resumed).';
    case 'paused':
      return 'Paused (from the page, or Ctrl-C on the server): Resume continues where it stopped.';
    case 'stopped':
      return 'Stopped by its user: kept as it is. Resume continues it anyway.';
    case 'interrupted':
      return 'Interrupted: the process running it died. Resume continues from its last saved evaluation.';
    case 'created':
      return 'Created but never started: Resume starts it.';
    case 'completed':
      return 'Completed: every generation is done.';
    case 'failed':
      return 'Failed: see the error below; a failed run cannot be continued.';
  }
}

function renderHeader(run: RunOverview | undefined, view: RunView | undefined): void {
  byId('run-title').textContent = run ? run.id : 'No run selected';
  byId('run-name').textContent = run?.name ?? '';
  const status = byId('run-status');
  status.textContent = run ? run.status : '';
  status.className = run ? `badge status-${run.status}` : 'badge';
  byId('surrogate-banner').hidden =
    !(view && isSurrogateView(view)) && run?.evaluator !== 'surrogate';
  // What the status machine allows; a run another process executes (running, not live here) is
  // controlled there.
  const elsewhere = run !== undefined && run.status === 'running' && !run.live;
  const allows = (action: 'pause' | 'stop') =>
    run !== undefined && !elsewhere && canTransition(run.status, action);
  const why = (enabled: boolean, reason: string) => (enabled ? '' : reason);
  const elsewhereWhy = 'driven by another process: control it there';
  const button = (id: string, enabled: boolean, title: string, reason: string) => {
    const b = byId<HTMLButtonElement>(id);
    b.disabled = !enabled;
    b.title = enabled ? title : why(enabled, reason);
  };
  button(
    'pause',
    allows('pause'),
    'pause after the evaluations in flight; Resume continues',
    elsewhere ? elsewhereWhy : `a ${run?.status ?? 'missing'} run cannot be paused`,
  );
  button(
    'resume',
    Boolean(run?.resumable),
    'continue the run from its last saved evaluation',
    elsewhere ? elsewhereWhy : `a ${run?.status ?? 'missing'} run cannot be resumed`,
  );
  button(
    'stop',
    allows('stop'),
    'end the run (asks first; it can still be resumed later)',
    elsewhere ? elsewhereWhy : `a ${run?.status ?? 'missing'} run cannot be stopped`,
  );
  const retirable = run !== undefined && run.status !== 'running';
  const retireWhy =
    run?.status === 'running'
      ? 'a running run cannot be archived or deleted: pause or stop it first'
      : '';
  button(
    'archive',
    retirable,
    'move the run out of the list (to the runs folder’s .archive/)',
    retireWhy,
  );
  button('delete', retirable, 'delete the run and its files (asks first)', retireWhy);
  byId('control-note').textContent = run ? controlNote(run) : '';

  // The whole configuration, the chance warning and, for the demo, its expected duration.
  const config = byId('config');
  const facts = view ? configFacts(view.run.config) : [];
  const factsKey = view ? `${view.run.id}` : '';
  if (config.dataset.run !== factsKey) {
    config.dataset.run = factsKey;
    clear(config);
    for (const f of facts) {
      config.append(
        html('div', { class: 'fact', 'data-key': f.key }, [
          html('dt', {}, [f.label]),
          html('dd', {}, [f.value]),
        ]),
      );
    }
  }
  const summary = view ? chanceSummary(chanceOf(view)) : undefined;
  const chanceBanner = byId('chance-banner');
  chanceBanner.hidden = !summary?.most;
  chanceBanner.textContent = summary?.most ? chanceWarning(summary) : '';
  const demo = byId('demo-estimate');
  // The demo as serve --demo starts it (its name and its plan), not any run called "demo".
  const isDemo =
    run?.name === 'demo' &&
    configDefaults?.demo !== undefined &&
    run.plannedEvaluations === configDefaults.demo.evaluations;
  demo.hidden = !(isDemo && run && run.status !== 'completed');
  if (isDemo && run) {
    demo.textContent = `The demo runs ${configDefaults!.demo!.evaluations} evaluations at most: ${configDefaults!.demo!.text} from the start. Ctrl-C on the server pauses it; the next npm start continues it.`;
  }
  const exportLink = byId<HTMLAnchorElement>('export');
  if (run) exportLink.href = `/api/runs/${encodeURIComponent(run.id)}/export.csv`;
  exportLink.classList.toggle('disabled', !run);
  byId('run-error').textContent = run?.error ? `failed: ${run.error}` : '';

  const bar = byId('generation-bar');
  const text = byId('progress-text');
  const eta = byId('eta');
  if (!view || !run) {
    byId('working').textContent = '';
    bar.style.width = '0%';
    text.textContent = run ? 'loading…' : '';
    eta.textContent = '';
    return;
  }
  const p = generationProgress(view);
  const working = Object.values(view.working)
    .map((w) => `#${w.index} ${w.phase}${w.total > 1 ? ` ${w.done}/${w.total}` : ''}`)
    .join(', ');
  byId('working').textContent = run.status === 'running' && working ? `evaluating ${working}` : '';
  const total = Math.max(p.total, 1);
  bar.style.width = `${Math.min(100, (p.done / total) * 100).toFixed(1)}%`;
  text.textContent = `${generationLabel(p.generation, run.generations)}: ${p.done}/${p.total} evaluated · run ${run.evaluations}/${run.plannedEvaluations}`;
  if (run.status === 'running' && p.startedAt !== undefined && p.done > 0) {
    const perEval = (Date.now() - p.startedAt) / 1000 / p.done;
    const left = Math.max(0, p.total - p.done);
    const runLeft = Math.max(0, run.plannedEvaluations - run.evaluations);
    eta.textContent = `ETA generation ${duration(perEval * left)}, run ${duration(perEval * runLeft)}`;
  } else {
    eta.textContent = run.status === 'running' ? 'ETA after the first evaluation' : '';
  }
}

async function control(action: 'pause' | 'resume' | 'stop' | 'archive' | 'delete'): Promise<void> {
  if (!currentRun) return;
  const id = currentRun;
  const errorBox = byId('control-error');
  errorBox.textContent = '';
  const question: Partial<Record<typeof action, string>> = {
    stop: `Stop run ${id}? It ends for good (Pause keeps it ready to continue); it stays in the list and can still be resumed.`,
    delete: `Delete run ${id} and all its files? This cannot be undone (Archive only moves it out of the list).`,
    archive: `Archive run ${id}? It leaves the list and moves to the runs folder's .archive/ (move it back to list it again).`,
  };
  const ask = question[action];
  if (ask !== undefined && !window.confirm(ask)) return;
  try {
    if (action === 'archive' || action === 'delete') {
      await retireRun(id, action);
      runs.delete(id);
      compared.delete(id);
      currentRun = undefined;
      model = undefined;
      const next = [...runs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
      if (next) show(next.id);
      else {
        history.replaceState(null, '', '#');
        scheduleRender();
      }
      return;
    }
    const run = await controlRun(id, action);
    runs.set(run.id, run);
    scheduleRender();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      askForToken('This server needs its access token: enter it above.');
    } else {
      errorBox.textContent = err instanceof Error ? err.message : String(err);
    }
  }
}

for (const action of ['pause', 'resume', 'stop', 'archive', 'delete'] as const) {
  byId(action).addEventListener('click', () => void control(action));
}
byId<HTMLInputElement>('show-dominated').addEventListener('change', (ev) => {
  showDominated = (ev.target as HTMLInputElement).checked;
  scheduleRender();
});
for (const axis of ['evaluations', 'time'] as const) {
  byId(axis === 'time' ? 'hv-by-time' : 'hv-by-evaluations').addEventListener('click', () => {
    hvAxis = axis;
    byId('hv-by-time').classList.toggle('pressed', axis === 'time');
    byId('hv-by-evaluations').classList.toggle('pressed', axis === 'evaluations');
    scheduleRender();
  });
}
// Compared fronts of running runs move: fetch them again now and then.
setInterval(() => {
  for (const id of compared.keys()) if (runs.get(id)?.status === 'running') void refreshOverlay(id);
}, 15_000);
byId('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken(byId<HTMLInputElement>('token').value.trim());
  byId('token-box').hidden = true;
  byId('control-error').textContent = '';
  // Everything the token was missing for: the runs list, the live feed, the form's defaults and
  // the studies.
  void loadRuns();
  live.reconnect();
  void runForm.load().then(async () => {
    configDefaults = await getConfigDefaults().catch(() => undefined);
    scheduleRender();
  });
  void studiesPanel.refresh();
});
byId<HTMLAnchorElement>('export').addEventListener('click', (ev) => {
  // With a token a plain link cannot authenticate: fetch the file with it instead.
  if (!currentRun || !getToken()) return;
  ev.preventDefault();
  downloadCsv(currentRun).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 401)
      askForToken('The token was refused: enter it again above.');
    else byId('control-error').textContent = err instanceof Error ? err.message : String(err);
  });
});

async function loadRuns(): Promise<void> {
  try {
    for (const run of await listRuns()) runs.set(run.id, run);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      askForToken('This server needs its access token: enter it above.');
      return;
    }
    byId('control-error').textContent =
      `cannot list runs: ${err instanceof Error ? err.message : String(err)}`;
  }
  const fromHash = /^#run=(.+)$/.exec(location.hash)?.[1];
  const wanted = fromHash ? decodeURIComponent(fromHash) : undefined;
  const all = [...runs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  const pick =
    (wanted && runs.has(wanted) ? wanted : undefined) ??
    all.find((r) => r.status === 'running')?.id ??
    all[0]?.id;
  if (pick) show(pick);
  else scheduleRender();
}

void loadRuns();
// Runs another process starts (a terminal's search) or deletes appear and go without a reload.
setInterval(() => {
  if (document.hidden) return;
  listRuns().then(
    (list) => {
      const ids = new Set(list.map((r) => r.id));
      for (const run of list) if (!runs.has(run.id) || run.id !== currentRun) runs.set(run.id, run);
      for (const id of [...runs.keys()]) if (!ids.has(id) && id !== currentRun) runs.delete(id);
      scheduleRender();
    },
    () => {},
  );
}, 5000);
setInterval(() => {
  if (model?.view.run.status === 'running') scheduleRender(); // keep the ETA ticking
}, 1000);
byId('app').append(html('span', { hidden: true, id: 'ready' }));
