/**
 * End to end in headless Chromium (playwright-core; the browser: CHROMIUM_PATH, else the one the
 * devDependency @sparticuz/chromium carries, see tests/helpers/chromium.ts): the real server runs a real surrogate
 * search with a delay per evaluation; the dashboard shows points appearing and the front changing,
 * draws a clicked candidate's cells, shows the API's field errors in the form, pauses and resumes the
 * run, and records when it drew each point so the event-to-screen latency can be reported.
 * Screenshots go to test-output/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxesOverlap, layoutCell } from '../../dashboard/src/cell-layout.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { CHROMIUM_ARGS, testChromium } from '../helpers/chromium.js';

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
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

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
  server = await startServer({ port: 0, runsDir });
  const browserInfo = await testChromium();
  console.log(`dashboard e2e: Chromium from ${browserInfo.description}`);
  browser = await chromium.launch({
    executablePath: browserInfo.executablePath,
    env: browserInfo.env,
    args: [...CHROMIUM_ARGS],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (runsDir) await rm(runsDir, { recursive: true, force: true });
});

const dotCount = () => page.locator('#scatter circle.dot').count();
const frontPath = () =>
  page.locator('#scatter path.front-line').getAttribute('d', { timeout: 60_000 });

describe('dashboard in headless Chromium', () => {
  let runId: string;

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
    // The default server evaluates real runs in one worker thread, started with the first of them;
    // this server runs surrogate searches only, so none is listed.
    const summary = page.locator('#workers [data-testid="workers-summary"]');
    await expect
      .poll(() => summary.textContent(), { timeout: 10_000 })
      .toBe(
        'evaluations run in 1 worker thread, started with the first real run. 0 workers, 0 evaluating, 0 waiting.',
      );
  });

  it('shows the API field errors next to the form fields', async () => {
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
    await page.locator('#run-form input[name="population"]').fill('4');
    await page.locator('#run-form input[name="generations"]').fill('2');
    await page.locator('#run-form input[name="seed"]').fill('5');
    await page.locator('#run-form select[name="objectives"]').selectOption('hrs-params');
    await page.locator('#run-form button[type="submit"]').click();
    await expect.poll(() => page.locator('#runs li').count(), { timeout: 30_000 }).toBe(2);
    // The new run may be listed (from the live feed's overview) before the form's answer arrives
    // and switches to it.
    const current = () => page.locator('#runs li.current').getAttribute('data-run-id');
    await expect.poll(current, { timeout: 30_000 }).not.toBe(runId);
    const newId = await current();
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
      population: 4,
      generations: 2,
      seed: 5,
      evaluator: 'surrogate',
    });
    expect(run.body.config.objectives.map((o: { metric: string }) => o.metric)).toEqual([
      'hrs',
      'params',
    ]);
    expect(pageErrors).toEqual([]);
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
