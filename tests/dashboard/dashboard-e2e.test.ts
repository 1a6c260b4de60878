/**
 * End to end in headless Chromium (playwright-core; the browser: CHROMIUM_PATH, else the one the
 * devDependency @sparticuz/chromium carries, see tests/helpers/chromium.ts): the real server runs a real surrogate
 * search with a delay per evaluation; the dashboard shows points appearing and the front changing,
 * draws a clicked candidate's cells, shows the API's field errors in the form, pauses and resumes the
 * run, and records when it drew each point so the event-to-screen latency can be reported.
 * Screenshots go to test-output/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxesOverlap, layoutCell } from '../../dashboard/src/cell-layout.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { chanceChecks, chanceSummary } from '../../src/core/run-facts.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { demoConfig } from '../../src/server/demo.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { settingsOf, studyJobs } from '../../src/study/study.js';
import { JOURNAL_FILE, SETTINGS_FILE } from '../../src/study/study-folder.js';
import { CHROMIUM_ARGS, testChromium } from '../helpers/chromium.js';
import { brokenWords, layoutProblems, pointsUnder } from '../helpers/layout-check.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'test-output');

const CONFIG = {
  population: 8,
  generations: 6,
  seed: 11,
  evaluator: 'surrogate',
  surrogateDelayMs: 200,
  // Repeated evaluation with seed-dependent figures: points move to their means, the front's
  // members carry error bars.
  surrogateNoise: 0.02,
  resampling: { initialSeeds: 1, maxSeeds: 3 },
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
};
/** New candidates (the first seed of each); re-evaluations come on top. */
const CANDIDATES = 8 * 6;

interface Draw {
  runId: string;
  index: number;
  finishedAt: number;
  drawnAt: number;
}

let runsDir: string;
let studiesDir: string;
let studyPlanned: number;
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** How the page's confirm() dialogs are answered, and what they asked. */
let acceptDialogs = true;
const dialogs: string[] = [];

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, server.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
  await mkdir(OUT, { recursive: true });
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-e2e-'));
  // A study folder as `robust-nas study --out` leaves it mid-way: its settings and one journal line.
  studiesDir = join(runsDir, '..', `${runsDir.split('/').pop()}-studies`);
  const { settings } = settingsOf({ budget: 'tiny', out: join(studiesDir, 'e2e-study') });
  studyPlanned = studyJobs(settings).length;
  await mkdir(join(studiesDir, 'e2e-study'), { recursive: true });
  await writeFile(join(studiesDir, 'e2e-study', SETTINGS_FILE), JSON.stringify(settings));
  await writeFile(
    join(studiesDir, 'e2e-study', JOURNAL_FILE),
    `${JSON.stringify({ id: 'job-1', failed: 'NaN loss' })}\n`,
  );
  // The real evaluator's availability is probed for the form as `serve` does it (tfjs loaded here).
  server = await startServer({ port: 0, runsDir, studiesDirs: [studiesDir] });
  const browserInfo = await testChromium();
  console.log(`dashboard e2e: Chromium from ${browserInfo.description}`);
  browser = await chromium.launch({
    executablePath: browserInfo.executablePath,
    env: browserInfo.env,
    args: [...CHROMIUM_ARGS],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void (acceptDialogs ? dialog.accept() : dialog.dismiss());
  });
  // The layout checks are passed to the page as functions; a bundler's name helper is a no-op there.
  await page.addInitScript('window.__name = (f) => f');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (runsDir) await rm(runsDir, { recursive: true, force: true });
  if (studiesDir) await rm(studiesDir, { recursive: true, force: true });
});

const dotCount = () => page.locator('#scatter circle.dot').count();
const frontPath = () =>
  page.locator('#scatter path.front-line').getAttribute('d', { timeout: 60_000 });

describe('dashboard in headless Chromium', () => {
  let runId: string;
  let formRunId: string;
  let realRunId: string;

  it('shows points appearing and the front changing while the search runs', async () => {
    const started = await api('POST', '/api/runs', CONFIG);
    expect(started.status).toBe(201);
    runId = started.body.run.id;
    await page.goto(`${server.url}#run=${runId}`);
    await page.waitForSelector('#connection[data-status="connected"]');
    await page.waitForSelector(`#runs li[data-run-id="${runId}"]`);
    await expect.poll(dotCount, { timeout: 60_000 }).toBeGreaterThan(0);
    const early = await dotCount();
    await page.waitForSelector('#scatter path.front-line', { timeout: 60_000 });
    const firstFront = await frontPath();
    await expect.poll(dotCount, { timeout: 60_000 }).toBeGreaterThan(early);
    await expect.poll(frontPath, { timeout: 60_000 }).not.toBe(firstFront);

    // Drop the page's connection mid-run (as a network glitch would): it reconnects by itself and
    // catches up (checked against the server's state at the end).
    const reconnected = page.waitForFunction(() => window.robustNas.reconnects > 0, undefined, {
      timeout: 30_000,
    });
    for (const socket of server.io.sockets.sockets.values()) socket.conn.close();
    await reconnected;
    await page.waitForSelector('#connection[data-status="connected"]');

    // Surrogate figures are labelled as such, axes name the attack and eps.
    expect(await page.locator('#surrogate-banner').isVisible()).toBe(true);
    const labels = await page.locator('#scatter text.axis-label').allTextContents();
    expect(labels[0]).toContain('clean');
    expect(labels[0]).toContain('surrogate');
    expect(labels[1]).toContain('PGD ε=0.1');
    expect(await page.locator('#progress-text').textContent()).toMatch(
      /generation \d+ of 6: \d+\/\d+ evaluated/,
    );
  });

  it('pauses and resumes the run from the buttons', async () => {
    await page.locator('#pause').click();
    await page.waitForSelector('#run-status.status-paused');
    // Resumable once the server's process has let go of the run (a change right after 'paused').
    await page.waitForSelector('#resume:enabled');
    expect(await page.locator(`#runs li[data-run-id="${runId}"]`).getAttribute('data-status')).toBe(
      'paused',
    );
    await page.locator('#resume').click();
    await page.waitForSelector('#run-status.status-running');
  });

  it('draws a clicked candidate: both cells, its scores and its genotype', async () => {
    await page.locator('#scatter circle.dot.on-front').first().click();
    await page.waitForSelector('#candidate svg.cell-normal');
    const normalEdges = await page
      .locator('#candidate svg.cell-normal path.edge:not(.concat)')
      .count();
    const reduceEdges = await page
      .locator('#candidate svg.cell-reduce path.edge:not(.concat)')
      .count();
    expect(normalEdges).toBe(8); // 4 nodes x 2 inputs (sampling never picks 'none')
    expect(reduceEdges).toBe(8);
    const nodeLabels = await page
      .locator('#candidate svg.cell-normal .node text')
      .allTextContents();
    expect(nodeLabels).toEqual(
      expect.arrayContaining(['c_{k-2}', 'c_{k-1}', '0', '1', '2', '3', 'c_{k}']),
    );
    const opLabels = await page
      .locator('#candidate svg.cell-normal text.edge-label')
      .allTextContents();
    expect(opLabels).toHaveLength(8);
    const text = await page.locator('#genotype-text').textContent();
    expect(text).toMatch(/^Genotype\(normal=\[\('[a-z_0-9]+', [01]\), /);
    expect(await page.locator('#candidate .badge.surrogate').textContent()).toContain(
      'not accuracy',
    );
    expect(await page.locator('#candidate dl.scores').textContent()).toContain('PGD ε=0.1');

    // The front table has one row per front member and sorts by a clicked column.
    // (Read in one go: the search is still running and the page may redraw between two reads.)
    const counts = await page.evaluate(() => ({
      rows: document.querySelectorAll('#front tbody tr').length,
      caption: document.getElementById('front-count')!.textContent ?? '',
      dots: document.querySelectorAll('#scatter circle.dot.on-front').length,
    }));
    expect(counts.rows).toBe(Number(/^(\d+)/.exec(counts.caption)?.[1]));
    expect(counts.rows).toBe(counts.dots);
    // Columns: the run's objectives (mean ± standard error) and each member's seeds.
    const keys = await page
      .locator('#front th')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(keys).toEqual(['index', 'generation', 'seeds', 'clean', 'pgd@0.1']);
    await page.locator('#front th[data-key="clean"]').click();
    const cleanSorted = await page
      .locator('#front tbody tr td[data-key="clean"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    expect(cleanSorted.length).toBeGreaterThan(0);
    expect(cleanSorted).toEqual([...cleanSorted].sort((a, b) => b - a));
    expect(await page.locator('#front tbody td[data-key="clean"]').first().textContent()).toMatch(
      /^\d\.\d{3} ± \d\.\d{3}$/,
    );
  });

  it('shows the Workers panel from GET /api/workers', async () => {
    // The default server evaluates real runs in one worker thread per core, started with the first
    // of them; no real run has started yet, so none is running (said once, not "2 worker threads"
    // beside "0 workers").
    const cores = availableParallelism();
    const summary = page.locator('#workers [data-testid="workers-summary"]');
    await expect
      .poll(() => summary.textContent(), { timeout: 10_000 })
      .toBe(
        `Evaluations run in ${cores} worker thread${cores === 1 ? '' : 's'}, started with the first real run. No worker running yet.`,
      );
  });

  it("fills the start form with the demo's settings through the CLI schema, the real evaluator first", async () => {
    await page.waitForSelector('#run-form[data-loaded="true"]', { timeout: 120_000 });
    const config = (await api('GET', '/api/config')).body;
    const value = (name: string) => page.locator(`#run-form [name="${name}"]`).inputValue();
    const d = config.defaults;
    expect(d.evaluation.attacks[0].steps).toBe(5); // the demo's, not the schema's silent 10
    const expected: Record<string, unknown> = {
      dataset: d.evaluation.dataset,
      channels: d.evaluation.channels,
      layers: d.evaluation.layers,
      epochs: d.evaluation.epochs,
      trainSize: d.evaluation.trainSize,
      valSize: d.evaluation.valSize,
      attack: d.evaluation.attacks[0].name,
      steps: d.evaluation.attacks[0].steps,
      eps: d.evaluation.attacks[0].eps,
      population: d.population,
      generations: d.generations,
      initialSeeds: d.resampling.initialSeeds,
      maxSeeds: d.resampling.maxSeeds,
      seed: d.seed,
    };
    for (const [name, v] of Object.entries(expected))
      expect(await value(name), name).toBe(String(v));
    expect(await value('steps')).toBe('5');
    expect(await value('name')).toBe('');
    // The real evaluator when tfjs loads here; otherwise the surrogate, and the form says why.
    const available = config.realEvaluator.available as boolean;
    expect(await value('evaluator')).toBe(available ? 'real' : 'surrogate');
    const note = await page.locator('#evaluator-note').textContent();
    if (available) expect(note).toMatch(/^Real: each candidate is trained and attacked/);
    else expect(note).toContain(config.realEvaluator.problem);
    // What the form sends: every field of the search config it shows, the demo's steps included.
    const sent = await page.evaluate(() => {
      const form = document.getElementById('run-form') as HTMLFormElement;
      return Object.fromEntries(
        Array.from(form.elements)
          .filter(
            (e): e is HTMLInputElement => 'name' in e && Boolean((e as HTMLInputElement).name),
          )
          .map((e) => [e.name, e.value]),
      );
    });
    expect(Object.keys(sent).sort()).toEqual(
      [
        'attack',
        'channels',
        'dataset',
        'epochs',
        'eps',
        'evaluator',
        'generations',
        'initialSeeds',
        'layers',
        'maxSeeds',
        'name',
        'objectives',
        'population',
        'seed',
        'steps',
        'trainSize',
        'valSize',
      ].sort(),
    );
  });

  it('shows the API field errors next to the form fields', async () => {
    await page.waitForSelector('#run-form[data-loaded="true"]', { timeout: 120_000 });
    await page.locator('#run-form select[name="evaluator"]').selectOption('surrogate');
    await page.locator('#run-form input[name="population"]').fill('0');
    await page.locator('#run-form input[name="eps"]').fill('3');
    await page.locator('#run-form button[type="submit"]').click();
    await page.waitForSelector('.field-error[data-for="population"] div');
    expect(await page.locator('.field-error[data-for="population"]').textContent()).toMatch(
      />=?\s*1|too small/i,
    );
    expect(await page.locator('.field-error[data-for="eps"]').textContent()).not.toBe('');
    expect(
      await page.locator('#run-form input[name="population"]').getAttribute('class'),
    ).toContain('invalid');
    // Correcting a field clears its error.
    await page.locator('#run-form input[name="population"]').fill('12');
    await page.locator('#run-form input[name="eps"]').fill('0.1');
    expect(await page.locator('.field-error[data-for="population"]').textContent()).toBe('');
    expect(await page.locator('#run-form .invalid').count()).toBe(0);
  });

  it('reaches the final state, records draw latencies and saves a screenshot', async () => {
    await server.manager.settled(runId);
    await page.waitForSelector('#run-status.status-completed', { timeout: 60_000 });
    // One point per candidate (genotype), at its means.
    const final = (await server.manager.projection(runId))!.view;
    const genotypes = new Set(final.evaluations.filter((e) => e.objectives).map((e) => e.hash));
    expect(final.evaluations.filter((e) => (e.seedIndex ?? 0) === 0)).toHaveLength(CANDIDATES);
    expect(final.evaluations.length).toBeGreaterThan(CANDIDATES);
    await expect.poll(dotCount, { timeout: 30_000 }).toBe(genotypes.size);
    // Front members re-evaluated carry error bars; the table says how many seeds stand behind each.
    const bars = await page
      .locator('#scatter g.error-bar')
      .evaluateAll((els) =>
        els.map((e) => ({ seeds: Number(e.getAttribute('data-seeds')), lines: e.children.length })),
      );
    expect(bars).toHaveLength(await page.locator('#scatter circle.dot.on-front').count());
    expect(bars.some((b) => b.seeds > 1 && b.lines === 2)).toBe(true);
    expect(await page.locator('#noise').textContent()).toMatch(
      /clean surrogate score \(surrogate\): reliability \d\.\d\d at [\d.]+ seeds|not enough re-evaluated candidates yet/,
    );
    const hvDots = await page.locator('#hypervolume circle.hv-dot').count();
    expect(hvDots).toBe(6);
    // Show the best candidate for the screenshot.
    await page.locator('#front tbody tr').first().click();
    await page.waitForSelector('#candidate svg.cell-reduce');
    await page.screenshot({ path: join(OUT, 'dashboard.png'), fullPage: true });

    // Export CSV links to the run's CSV.
    const href = await page.locator('#export').getAttribute('href');
    expect(href).toBe(`/api/runs/${runId}/export.csv`);
    const csv = await page.evaluate(async (url) => (await fetch(url)).text(), href!);
    expect(csv.trimEnd().split('\n')).toHaveLength(final.evaluations.length + 1);

    // The page ends in exactly the server's state.
    const state = (await server.manager.projection(runId))!.snapshot();
    const shown = await page.evaluate(() => {
      const m = window.robustNas.model()!;
      return {
        seq: m.seq,
        evaluations: m.view.evaluations.map((e) => e.index),
        front: m.view.run.generations.at(-1)?.front,
      };
    });
    expect(shown).toEqual({
      seq: state.seq,
      evaluations: state.view.evaluations.map((e) => e.index),
      front: state.view.run.generations.at(-1)?.front,
    });
    // ... and the front it draws is the search's final front.
    const drawnFront = await page
      .locator('#scatter circle.dot.on-front')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
    expect(drawnFront.sort((a, b) => a - b)).toEqual(state.view.run.generations.at(-1)?.front);

    const draws = (await page.evaluate(() => window.robustNas.draws)) as Draw[];
    const mine = draws.filter((d) => d.runId === runId);
    // Every evaluation (every seed) was drawn once.
    expect(new Set(mine.map((d) => d.index)).size).toBe(final.evaluations.length);
    // Latency of points that arrived live (not those in the first snapshot on page load), all of
    // them and without those that finished while the connection was deliberately dropped.
    const outages = await page.evaluate(() => window.robustNas.outages);
    const live = mine.slice(1).filter((d) => d.drawnAt > mine[0]!.drawnAt);
    const stats = (ds: Draw[]) => {
      const l = ds.map((d) => d.drawnAt - d.finishedAt).sort((a, b) => a - b);
      const at = (q: number) => Math.round(l[Math.min(l.length - 1, Math.floor(l.length * q))]!);
      return { n: l.length, median: at(0.5), p90: at(0.9), max: at(1) };
    };
    const connected = live.filter(
      (d) =>
        !outages.some((o) => d.finishedAt >= o.from - 50 && d.finishedAt <= (o.to ?? Infinity)),
    );
    const all = stats(live);
    const steady = stats(connected);
    const line = (name: string, s: typeof all) =>
      `${name}: ${s.n} points, median ${s.median} ms, p90 ${s.p90} ms, max ${s.max} ms`;
    const report =
      'evaluation finished (server timestamp) -> point in the page (DOM updated)\n' +
      `${line('connected', steady)}\n${line('all, including the dropped connection', all)}\n`;
    await writeFile(join(OUT, 'dashboard-latency.txt'), report);
    console.log(report);
    expect(live.length).toBeGreaterThan(10);
    expect(pageErrors).toEqual([]);
  });

  it('starts a run from the form and switches to it', async () => {
    await page.locator('#run-form select[name="evaluator"]').selectOption('surrogate');
    await page.locator('#run-form input[name="name"]').fill('from the form');
    await page.locator('#run-form input[name="population"]').fill('4');
    await page.locator('#run-form input[name="generations"]').fill('2');
    await page.locator('#run-form input[name="seed"]').fill('5');
    await page.locator('#run-form input[name="maxSeeds"]').fill('1');
    await page.locator('#run-form select[name="objectives"]').selectOption('hrs-params');
    await page.locator('#run-form button[type="submit"]').click();
    await expect.poll(() => page.locator('#runs li').count(), { timeout: 30_000 }).toBe(2);
    // The new run may be listed (from the live feed's overview) before the form's answer arrives
    // and switches to it.
    const current = () => page.locator('#runs li.current').getAttribute('data-run-id');
    await expect.poll(current, { timeout: 30_000 }).not.toBe(runId);
    const newId = await current();
    formRunId = newId!;
    await page.waitForSelector('#run-status.status-completed', { timeout: 60_000 });
    const evaluations = (await api('GET', `/api/runs/${newId}/evaluations`)).body.evaluations as {
      hash: string;
      objectives?: number[];
    }[];
    const genotypes = new Set(evaluations.filter((e) => e.objectives).map((e) => e.hash));
    await expect.poll(dotCount, { timeout: 30_000 }).toBe(genotypes.size);
    // The scatter plots what the run optimises: HRS (maximised) against parameters (minimised).
    const labels = await page.locator('#scatter text.axis-label').allTextContents();
    expect(labels[0]).toMatch(/^HRS.*\(max\)$/);
    expect(labels[1]).toMatch(/^parameters \(min\)$/);
    expect(
      await page
        .locator('#front th')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-key'))),
    ).toEqual(['index', 'generation', 'seeds', 'hrs', 'params']);
    // Its staircase bounds the region it dominates: it starts at the worst HRS (the left edge,
    // x = 58) and ends at the worst parameter count (the largest: the top of the plot).
    const d = await frontPath();
    expect(d).toMatch(/^M 58 /);
    const run = await api('GET', `/api/runs/${newId}`);
    expect(run.body.config).toMatchObject({
      name: 'from the form',
      population: 4,
      generations: 2,
      seed: 5,
      evaluator: 'surrogate',
      resampling: { initialSeeds: 1, maxSeeds: 1 },
    });
    // The form's attack steps are the demo's 5 (shown in the form), never a silent default.
    expect(run.body.config.evaluation.attacks[0]).toMatchObject({ name: 'pgd', steps: 5 });
    expect(await page.locator('#config [data-key="name"] dd').textContent()).toBe('from the form');
    expect(await page.locator(`#runs li[data-run-id="${newId}"] .run-name`).textContent()).toBe(
      'from the form',
    );
    expect(run.body.config.objectives.map((o: { metric: string }) => o.metric)).toEqual([
      'hrs',
      'params',
    ]);
    expect(pageErrors).toEqual([]);
  });
  it('a real run shows its whole configuration, and flags its candidates at chance', async () => {
    const config = {
      name: 'tiny real',
      population: 2,
      generations: 1,
      seed: 1,
      evaluator: 'real',
      resampling: { initialSeeds: 1, maxSeeds: 1 },
      evaluation: { ...TINY_EVALUATION, attacks: [{ name: 'pgd', eps: 0.1, steps: 2 }] },
    };
    const started = await api('POST', '/api/runs', config);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    realRunId = started.body.run.id;
    await page.locator(`#runs li[data-run-id="${realRunId}"]`).click();
    await page.waitForSelector(`#config[data-run="${realRunId}"]`);
    const facts = Object.fromEntries(
      await page
        .locator('#config .fact')
        .evaluateAll((els) =>
          els.map((e) => [e.getAttribute('data-key'), e.querySelector('dd')!.textContent]),
        ),
    );
    expect(facts).toMatchObject({
      name: 'tiny real',
      evaluator: 'real (each candidate trained and attacked)',
      dataset: 'synthetic',
      network: '2 channels, 1 cells, 4 nodes per cell',
      training: '1 epoch on 64 images, batch 32, lr 0.025',
      scored: '32 validation images',
      attacks: 'PGD ε=0.1, 2 steps',
      objectives: 'max clean, max pgd@0.1',
      seeds: 'search seed 1; 1 seed per new candidate',
      population: '2, nsga2',
      generations: '1 (numbered 0 to 0)',
    });
    expect(await page.locator('#run-name').textContent()).toBe('tiny real');
    expect(await page.locator(`#runs li[data-run-id="${realRunId}"] .run-name`).textContent()).toBe(
      'tiny real',
    );
    await server.manager.settled(realRunId);
    await page.waitForSelector('#run-status.status-completed', { timeout: 300_000 });
    // The chance flag agrees with core's check of the stored evaluations (a network this small, on
    // 64 images, may well have learned nothing): the banner when most are at chance, and each
    // evaluation of a candidate at chance marked in the table.
    const view = (await server.manager.projection(realRunId))!.view;
    expect(view.evaluations.filter((e) => e.status === 'finished')).toHaveLength(2);
    const checks = chanceChecks(view.run.config, view.evaluations);
    expect(checks).toHaveLength(2);
    const summary = chanceSummary(checks)!;
    await expect
      .poll(() => page.locator('#evaluations tbody tr').count(), { timeout: 30_000 })
      .toBe(2);
    expect(await page.locator('#chance-banner').isVisible()).toBe(summary.most);
    if (summary.most) {
      expect(await page.locator('#chance-banner').textContent()).toMatch(
        /not above chance \(10%\) by its standard error/,
      );
    }
    const marked = await page
      .locator('#evaluations tbody td[data-key="chance"]')
      .evaluateAll((els) => els.filter((e) => e.textContent === 'at chance').length);
    expect(marked).toBe(checks.filter((c) => c.atChance).length);
    const csv = (
      await (await fetch(new URL(`/api/runs/${realRunId}/export.csv`, server.url))).text()
    )
      .trimEnd()
      .split('\n');
    const column = csv[0]!.split(',').indexOf('at_chance');
    expect(column).toBeGreaterThan(0);
    expect(csv.slice(1).map((line) => line.split(',')[column])).toEqual(
      view.evaluations.map((e) => String(checks.find((c) => c.hash === e.hash)!.atChance)),
    );
    expect(pageErrors).toEqual([]);
  });

  it('checks every panel at 1280 and 1920 px: no text out of its box', async () => {
    await page.locator(`#runs li[data-run-id="${runId}"]`).click();
    await page.waitForSelector(`#config[data-run="${runId}"]`);
    await page.waitForSelector('#run-status.status-completed');
    await page.locator('#front tbody tr').first().click();
    await page.waitForSelector('#candidate svg.cell-reduce');
    // The longest option of each select chosen (the form's evaluator and objectives included).
    await page.evaluate(() => {
      for (const select of Array.from(
        document.querySelectorAll<HTMLSelectElement>('#run-form select'),
      )) {
        let longest = select.options[0]!;
        for (const o of Array.from(select.options))
          if (o.text.length > longest.text.length) longest = o;
        select.value = longest.value;
      }
    });
    for (const width of [1280, 1920]) {
      await page.setViewportSize({ width, height: 1100 });
      // Laid out again once the browser has drawn a frame at this width.
      await page.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
      );
      expect(await page.evaluate(layoutProblems), `${width} px`).toEqual([]);
      expect(await page.evaluate(brokenWords, '#genotype-text'), `${width} px`).toEqual([]);
      // The generation legend is below the plot, never over a point.
      expect(await page.locator('#scatter svg .legend').count()).toBe(0);
      expect(await page.locator('#scatter-legend .legend-item').count()).toBeGreaterThan(0);
      expect(await page.evaluate(pointsUnder, '#scatter-legend'), `${width} px`).toBe(0);
      // Every run id whole in the runs list.
      const ids = await page
        .locator('#runs li')
        .evaluateAll((els) =>
          els.map((e) => [e.getAttribute('data-run-id'), e.querySelector('.run-id')!.textContent]),
        );
      for (const [id, shown] of ids) expect(shown).toBe(id);
      // Each score's value is in the same column as its label.
      const pairs = await page.locator('#candidate dl.scores .fact').count();
      expect(pairs).toBeGreaterThanOrEqual(6);
      await page.screenshot({ path: join(OUT, `dashboard-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1440, height: 1100 });
  });

  it('plots hypervolume against time, hides dominated points, overlays another front, filters every evaluation', async () => {
    await page.locator(`#runs li[data-run-id="${runId}"]`).click();
    await page.waitForSelector(`#config[data-run="${runId}"]`);
    await page.locator('#hv-by-time').click();
    await page.waitForSelector('#hypervolume svg[data-axis="time"]');
    expect(await page.locator('#hypervolume circle.hv-dot').count()).toBe(6);
    expect(await page.locator('#hypervolume text.axis-label').first().textContent()).toMatch(
      /wall-clock time/,
    );
    await page.locator('#hv-by-evaluations').click();
    await page.waitForSelector('#hypervolume svg[data-axis="evaluations"]');

    const onFront = await page.locator('#scatter circle.dot.on-front').count();
    expect(await dotCount()).toBeGreaterThan(onFront);
    await page.locator('#show-dominated').uncheck();
    await expect.poll(dotCount).toBe(onFront);
    expect(await page.locator('#scatter-legend').textContent()).toMatch(/dominated points hidden/);
    await page.locator('#show-dominated').check();
    await expect.poll(dotCount).toBeGreaterThan(onFront);

    // The real run optimises the same objectives (clean, PGD ε=0.1): its front can be overlaid.
    const realFront = (await api('GET', `/api/runs/${realRunId}/front`)).body.front as unknown[];
    expect(realFront.length).toBeGreaterThan(0);
    await page.locator('#compare-select').selectOption(realRunId);
    await expect
      .poll(
        () =>
          page.locator(`#scatter g.overlay[data-run-id="${realRunId}"] path.overlay-dot`).count(),
        {
          timeout: 30_000,
        },
      )
      .toBe(realFront.length);
    expect(
      await page.locator(`#scatter-legend [data-run-id="${realRunId}"]`).textContent(),
    ).toContain('tiny real');
    await page.locator(`#compare button.chip[data-run-id="${realRunId}"]`).click();
    await expect.poll(() => page.locator('#scatter g.overlay').count()).toBe(0);

    // Every evaluation, filtered and sorted.
    const total = (await server.manager.projection(runId))!.view.evaluations.length;
    await expect
      .poll(() => page.locator('#evaluations tbody tr').count())
      .toBe(Math.min(total, 300));
    await page.locator('#evaluations select[name="generation"]').selectOption('0');
    const generations = await page
      .locator('#evaluations tbody td[data-key="generation"]')
      .allTextContents();
    expect(generations.length).toBe(8);
    expect(new Set(generations)).toEqual(new Set(['0']));
    await page.locator('#evaluations th[data-key="clean"]').click();
    const clean = await page
      .locator('#evaluations tbody td[data-key="clean"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    expect(clean).toEqual([...clean].sort((a, b) => b - a));
    await page.locator('#evaluations select[name="generation"]').selectOption('all');
    await page.locator('#evaluations input[name="text"]').fill('#5');
    expect(await page.locator('#evaluations tbody td[data-key="index"]').allTextContents()).toEqual(
      ['5'],
    );
    const hash = (await server.manager.projection(runId))!.view.evaluations[5]!.hash;
    await page.locator('#evaluations input[name="text"]').fill(hash.slice(0, 8));
    const byHash = await page
      .locator('#evaluations tbody tr')
      .evaluateAll((els) =>
        els.map((e) => [
          e.getAttribute('data-index'),
          e.querySelector('td[data-key="hash"]')!.getAttribute('title'),
        ]),
      );
    expect(byHash.map(([i]) => i)).toContain('5');
    for (const [, h] of byHash) expect(h).toBe(hash);
    await page.locator('#evaluations input[name="text"]').fill('');
    expect(pageErrors).toEqual([]);
  });

  it('says why the controls of a run driven from elsewhere are greyed out', async () => {
    // A search this process runs through its own storage, as a terminal's `robust-nas search` would.
    const elsewhere = await SearchRun.create(
      {
        ...CONFIG,
        evaluator: 'surrogate',
        objectives: [
          { metric: 'clean', direction: 'max' },
          { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
        ],
        generations: 200,
        surrogateDelayMs: 300,
        name: 'from a terminal',
      },
      { storage: new FileRunStorage(runsDir) },
    );
    const running = elsewhere.run();
    try {
      await page.waitForSelector(`#runs li[data-run-id="${elsewhere.id}"]`, { timeout: 30_000 });
      await page.locator(`#runs li[data-run-id="${elsewhere.id}"]`).click();
      await page.waitForSelector('#run-status.status-running', { timeout: 30_000 });
      for (const id of ['pause', 'stop', 'resume', 'delete', 'archive']) {
        expect(await page.locator(`#${id}`).isDisabled(), id).toBe(true);
      }
      expect(await page.locator('#pause').getAttribute('title')).toMatch(/another process/);
      expect(await page.locator('#delete').getAttribute('title')).toMatch(/running run cannot be/);
      expect(await page.locator('#control-note').textContent()).toMatch(
        /Driven by another process.*pause or stop it there/,
      );
    } finally {
      await elsewhere.stop();
      await running;
      await elsewhere.close?.();
    }
  });

  it('asks before stopping; archives and deletes runs from the page', async () => {
    const started = await api('POST', '/api/runs', {
      ...CONFIG,
      generations: 200,
      name: 'to stop',
    });
    const id = started.body.run.id as string;
    await page.waitForSelector(`#runs li[data-run-id="${id}"]`);
    await page.locator(`#runs li[data-run-id="${id}"]`).click();
    await page.waitForSelector('#run-status.status-running');
    expect(await page.locator('#delete').isDisabled()).toBe(true);
    expect(await page.locator('#control-note').textContent()).toMatch(/Pause: .*Stop: /);
    // Declined: still running.
    acceptDialogs = false;
    await page.locator('#stop').click();
    await expect.poll(() => dialogs.length).toBeGreaterThan(0);
    expect(dialogs.at(-1)).toMatch(/^Stop run .*Pause keeps it ready to continue/);
    expect((await api('GET', `/api/runs/${id}`)).body.run.status).toBe('running');
    acceptDialogs = true;
    await page.locator('#stop').click();
    await page.waitForSelector('#run-status.status-stopped', { timeout: 60_000 });
    expect(await page.locator('#control-note').textContent()).toMatch(/Stopped by its user/);
    await page.waitForSelector('#delete:enabled');
    await page.locator('#delete').click();
    await page.waitForSelector(`#runs li[data-run-id="${id}"]`, { state: 'detached' });
    expect(dialogs.at(-1)).toMatch(/^Delete run .*cannot be undone/);
    expect(existsSync(join(runsDir, id))).toBe(false);

    await page.locator(`#runs li[data-run-id="${formRunId}"]`).click();
    await page.waitForSelector(`#config[data-run="${formRunId}"]`);
    await page.waitForSelector('#archive:enabled');
    await page.locator('#archive').click();
    await page.waitForSelector(`#runs li[data-run-id="${formRunId}"]`, { state: 'detached' });
    expect(existsSync(join(runsDir, '.archive', formRunId, 'run.json'))).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it("says the demo's expected duration up front on its page", async () => {
    // The demo as serve --demo starts it (on the surrogate here, to keep the test short).
    const started = await api('POST', '/api/runs', demoConfig('surrogate'));
    expect(started.status).toBe(201);
    const id = started.body.run.id as string;
    const estimate = (await api('GET', '/api/config')).body.demo as {
      text: string;
      evaluations: number;
    };
    await page.waitForSelector(`#runs li[data-run-id="${id}"]`, { timeout: 30_000 });
    await page.locator(`#runs li[data-run-id="${id}"]`).click();
    await page.waitForSelector('#demo-estimate:not([hidden])', { timeout: 30_000 });
    expect(await page.locator('#demo-estimate').textContent()).toBe(
      `The demo runs ${estimate.evaluations} evaluations at most: ${estimate.text} from the start. ` +
        'Ctrl-C on the server pauses it; the next npm start continues it.',
    );
    expect(estimate.text).toMatch(/^about \d+ (min|h)/);
    expect((await api('POST', `/api/runs/${id}/stop`, {})).status).toBe(200);
    expect((await api('DELETE', `/api/runs/${id}`, {})).status).toBe(200);
    // Any other run says nothing of the kind.
    await page.locator(`#runs li[data-run-id="${runId}"]`).click();
    await page.waitForSelector('#demo-estimate[hidden]', { state: 'attached' });
  });

  it('lists a study with its progress, and links its report once written', async () => {
    const item = page.locator('#studies li[data-study="e2e-study"]');
    await item.waitFor({ timeout: 30_000 });
    expect(await item.locator('.run-meta').textContent()).toContain(
      `1/${studyPlanned} evaluations (1 failed)`,
    );
    expect(await item.locator('a.report-link').count()).toBe(0);
    await writeFile(join(studiesDir, 'e2e-study', 'report.html'), '<h1>e2e study report</h1>');
    await expect
      .poll(
        async () => {
          await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
          return item.locator('a.report-link').count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    const href = await item.locator('a.report-link').getAttribute('href');
    expect(href).toBe('/api/studies/e2e-study/report.html');
    const report = await page.evaluate(async (url) => (await fetch(url)).text(), href!);
    expect(report).toBe('<h1>e2e study report</h1>');
  });

  it('draws dense published cells readably: no label on another label or a node, parallel arrows apart', async () => {
    const names = ['PDARTS', 'NASNet', 'AmoebaNet', 'DARTS_V2', 'ENAS'] as const;
    const cells = names.flatMap((name) => {
      const g = getPublishedGenotype(name);
      return [
        { name, kind: 'normal' as const, edges: g.normal, concat: g.normal_concat },
        { name, kind: 'reduce' as const, edges: g.reduce, concat: g.reduce_concat },
      ];
    });
    // The layout alone (no browser): labels clear of each other and of every node.
    for (const c of cells) {
      const layout = layoutCell(c.edges, c.concat);
      const labels = layout.edges.flatMap((e) => (e.label ? [e.label.box] : []));
      expect(labels, `${c.name} ${c.kind}`).toHaveLength(
        c.edges.filter((e) => e[0] !== 'none').length,
      );
      for (let i = 0; i < labels.length; i++) {
        for (const n of layout.nodes)
          expect(boxesOverlap(labels[i]!, n.box), `${c.name} ${c.kind}`).toBe(false);
        for (let j = i + 1; j < labels.length; j++) {
          expect(boxesOverlap(labels[i]!, labels[j]!), `${c.name} ${c.kind}`).toBe(false);
        }
      }
    }
    // Drawn in the page: the same, measured on the rendered text.
    const problems = await page.evaluate((list) => {
      const gallery = document.createElement('div');
      gallery.id = 'cell-gallery';
      gallery.style.cssText =
        'position:absolute;left:0;top:0;z-index:10;background:#fff;padding:8px;width:1400px';
      document.body.append(gallery);
      const out: string[] = [];
      for (const c of list) {
        const figure = document.createElement('figure');
        figure.className = 'cells';
        const caption = document.createElement('figcaption');
        caption.textContent = `${c.name} ${c.kind}`;
        const cell = window.robustNas.drawCell(c.edges, c.concat, c.kind);
        figure.append(cell, caption);
        gallery.append(figure);
        const boxes = (sel: string) =>
          Array.from(cell.querySelectorAll<SVGGraphicsElement>(sel)).map((el) => el.getBBox());
        const hit = (a: DOMRect, b: DOMRect) =>
          a.x < b.x + b.width &&
          b.x < a.x + a.width &&
          a.y < b.y + b.height &&
          b.y < a.y + a.height;
        const labels = boxes('text.edge-label');
        const nodes = boxes('.node rect');
        labels.forEach((a, i) => {
          if (nodes.some((n) => hit(a, n))) out.push(`${c.name} ${c.kind}: label ${i} on a node`);
          labels.forEach((b, j) => {
            if (j > i && hit(a, b)) out.push(`${c.name} ${c.kind}: labels ${i} and ${j} overlap`);
          });
        });
        const paths = Array.from(cell.querySelectorAll('path.edge:not(.concat)'));
        const seen = new Map<string, string[]>();
        for (const p of paths) {
          const key = `${p.getAttribute('data-from')}>${p.getAttribute('data-to')}`;
          const d = p.getAttribute('d')!;
          if (seen.get(key)?.includes(d))
            out.push(`${c.name} ${c.kind}: parallel arrows ${key} coincide`);
          seen.set(key, [...(seen.get(key) ?? []), d]);
        }
      }
      return out;
    }, cells);
    await page.locator('#cell-gallery').screenshot({ path: join(OUT, 'cells.png') });
    expect(problems).toEqual([]);
    await page.evaluate(() => document.getElementById('cell-gallery')?.remove());
    expect(pageErrors).toEqual([]);
  });
});
