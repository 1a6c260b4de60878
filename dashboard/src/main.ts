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
import { ApiError, controlRun, downloadCsv, getToken, listRuns, setToken } from './api.js';
import { CandidatePanel } from './candidate-panel.js';
import { drawCell } from './cell-diagram.js';
import { byId, html } from './dom.js';
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
const scatter = new ScatterPlot(byId('scatter'), (i) => select(i));
const hvChart = new HypervolumeChart(byId('hypervolume'));
const frontTable = new FrontTable(byId('front'), (i) => select(i));
const candidate = new CandidatePanel(byId('candidate'));
new WorkersPanel(byId('workers')).start();
new RunForm((run) => {
  runs.set(run.id, run);
  show(run.id);
});

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
  const fresh = scatter.update(view, selected, front);
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
  hvChart.update(view);
  const axes = view ? objectiveAxes(view, isSurrogateView(view)) : [];
  const members = view ? frontMembers(view.evaluations, view.run.config.objectives, front) : [];
  frontTable.update(members, axes, selected);
  byId('front-count').textContent = m ? `${members.length} candidates` : '';
  byId('noise').textContent = view ? noiseLines(view, axes).join('\n') : '';
  const chosen = selected === undefined ? undefined : byIndex.get(selected);
  candidate.show(chosen, chosen ? front.includes(chosen.index) : false, evidenceOf(view, chosen));
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

function renderHeader(run: RunOverview | undefined, view: RunView | undefined): void {
  byId('run-title').textContent = run ? run.id : 'No run selected';
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
  byId<HTMLButtonElement>('pause').disabled = !allows('pause');
  byId<HTMLButtonElement>('resume').disabled = !run?.resumable;
  byId<HTMLButtonElement>('stop').disabled = !allows('stop');
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
  text.textContent = `generation ${p.generation + 1} of ${run.generations}: ${p.done}/${p.total} evaluated · run ${run.evaluations}/${run.plannedEvaluations}`;
  if (run.status === 'running' && p.startedAt !== undefined && p.done > 0) {
    const perEval = (Date.now() - p.startedAt) / 1000 / p.done;
    const left = Math.max(0, p.total - p.done);
    const runLeft = Math.max(0, run.plannedEvaluations - run.evaluations);
    eta.textContent = `ETA generation ${duration(perEval * left)}, run ${duration(perEval * runLeft)}`;
  } else {
    eta.textContent = run.status === 'running' ? 'ETA after the first evaluation' : '';
  }
}

async function control(action: 'pause' | 'resume' | 'stop'): Promise<void> {
  if (!currentRun) return;
  const errorBox = byId('control-error');
  errorBox.textContent = '';
  try {
    const run = await controlRun(currentRun, action);
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

for (const action of ['pause', 'resume', 'stop'] as const) {
  byId(action).addEventListener('click', () => void control(action));
}
byId('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken(byId<HTMLInputElement>('token').value.trim());
  byId('token-box').hidden = true;
  byId('control-error').textContent = '';
  // Everything the token was missing for: the runs list and the live feed.
  void loadRuns();
  live.reconnect();
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
setInterval(() => {
  if (model?.view.run.status === 'running') scheduleRender(); // keep the ETA ticking
}, 1000);
byId('app').append(html('span', { hidden: true, id: 'ready' }));
