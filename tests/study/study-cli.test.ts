/**
 * `robust-nas study` end to end on the tiny budget (real networks on the bundled MNIST, a few
 * images): the report's files and JSON shape, a self-contained HTML page that renders in Chromium
 * with no page error and no request, and the resume: a study SIGKILLed mid-way (a real child
 * process) and rerun redoes none of its finished evaluations and ends with the report of an
 * uninterrupted run. Other settings in an existing study folder are refused.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, testChromium } from '../helpers/chromium.js';
import { CLI_PATH, runCommand } from '../helpers/cli.js';

let root: string;
const ARGS = ['study', '--budget', 'tiny', '--seeds', '2'];
// No data folder named and an empty cache: the fresh-clone path (bundled MNIST).
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'robust-nas-study-'));
  env = { ROBUST_NAS_DATA: '', ROBUST_NAS_CACHE: join(root, 'cache') };
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const journalIds = async (dir: string): Promise<string[]> => {
  const path = join(dir, 'journal.jsonl');
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [(JSON.parse(l) as { id: string }).id];
      } catch {
        return []; // a line being written
      }
    });
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('robust-nas study (tiny budget)', () => {
  let uninterrupted: string;

  it('runs a study and writes the report: JSON shape, Markdown, self-contained HTML, SVG plots', async () => {
    const out = join(root, 'a');
    const r = runCommand([...ARGS, '--out', out], env);
    expect(r.stderr).toMatch(/10 evaluations, 0 already done/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/topology: (supported|not supported|inconclusive) \(/);
    uninterrupted = await readFile(join(out, 'report.json'), 'utf8');
    const report = JSON.parse(uninterrupted);
    expect(report.complete).toBe(true);
    expect(report.evaluations).toEqual({ planned: 10, finished: 10, failed: 0 });
    expect(report.apgdCheck).toEqual([
      expect.objectContaining({ dataset: 'mnist', eps: 0.05, architectures: 5 }),
    ]);
    expect(report.method).toMatch(/PGD \(2 steps, alpha eps\/4, random start\)/);
    expect(report.claims.map((c: { id: string }) => c.id)).toEqual([
      'topology',
      'nas-vs-handcrafted',
      'ensemble-gain',
      'hrs-ranking',
    ]);
    for (const c of report.claims) {
      expect(['supported', 'not supported', 'inconclusive']).toContain(c.verdict);
      expect(typeof c.statistic).toBe('string');
      expect(c.statistic.length).toBeGreaterThan(10);
    }
    expect(report.rows.map((r: { architecture: string }) => r.architecture)).toEqual([
      'DARTS_V2',
      'resnet18',
      'random-1',
      'random-2',
      'ensemble-2',
    ]);
    expect(report.rows.map((r: { family: string }) => r.family)).toEqual([
      'nas',
      'handcrafted',
      'random',
      'random',
      'ensemble',
    ]);
    for (const row of report.rows) {
      expect(row.dataset).toBe('mnist');
      expect(row.seeds).toBe(2);
      expect(row.params).toBeGreaterThan(0);
      expect(row.macs).toBeGreaterThan(0);
      expect(row.n).toBe(16);
      expect(row.clean.mean).toBeGreaterThanOrEqual(0);
      expect(row.clean.stderr).toBeGreaterThanOrEqual(0);
      // 4 attacks x 2 eps, then APGD-CE at the reference eps.
      expect(row.robust).toHaveLength(9);
      expect(row.robust.map((c: { attack: string }) => c.attack)).toEqual([
        'fgsm',
        'fgsm',
        'rfgsm',
        'rfgsm',
        'stepll',
        'stepll',
        'pgd',
        'pgd',
        'apgd-ce',
      ]);
      for (const c of row.robust) {
        expect(c.mean).toBeLessThanOrEqual(row.clean.mean + 1e-12);
        expect(c.n).toBe(16);
        expect(c.stderr).toBeGreaterThanOrEqual(0);
      }
      expect(row.hrs.mean).toBeGreaterThanOrEqual(0);
    }
    // The ensemble's size is the sum of its members'.
    const byName = Object.fromEntries(
      report.rows.map((r: { architecture: string }) => [r.architecture, r]),
    );
    expect(byName['ensemble-2'].params).toBe(byName['random-1'].params + byName['random-2'].params);
    // The baseline is scaled to the NAS cell's size (within a factor of 2).
    expect(byName.resnet18.width).toBeLessThan(1);
    expect(byName.resnet18.params / byName.DARTS_V2.params).toBeGreaterThan(0.5);
    expect(byName.resnet18.params / byName.DARTS_V2.params).toBeLessThan(2);

    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| claim \| verdict \| statistic \|/);
    expect(md).toMatch(/\| DARTS_V2 \| nas \| 2 \|/);
    expect(md).toMatch(/robust-nas study --budget tiny --datasets mnist --seeds 2/);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/<svg /);
    // Self-contained: no script, no stylesheet link, no external URL in src/href/url().
    expect(html).not.toMatch(/<script|<link|<img|<iframe/i);
    expect(html).not.toMatch(/(src|href)\s*=|url\(/i);
    for (const u of html.match(/https?:\/\/[^"\s<]*/g) ?? []) {
      expect(u).toBe('http://www.w3.org/2000/svg'); // the SVG namespace, never fetched
    }
    for (const name of ['ensemble-gain', 'eps-mnist-pgd', 'families-mnist', 'hrs-params-mnist']) {
      expect(await readFile(join(out, 'plots', `${name}.svg`), 'utf8')).toMatch(/^<svg /);
    }
  }, 600_000);

  it('renders the HTML report in Chromium with no page error and no request', async () => {
    const info = await testChromium();
    const browser = await chromium.launch({
      executablePath: info.executablePath,
      env: info.env,
      args: [...CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const file = pathToFileURL(join(root, 'a', 'report.html')).href;
      page.on('request', (r) => {
        if (r.url() !== file) requests.push(r.url());
      });
      await page.goto(file, { waitUntil: 'load' });
      expect(await page.locator('h1').textContent()).toMatch(/robust-nas study/);
      expect(await page.locator('table.claims tbody tr').count()).toBe(4);
      expect(await page.locator('figure svg').count()).toBeGreaterThanOrEqual(7);
      const box = await page.locator('figure svg').first().boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('SIGKILLed mid-study and rerun: finished evaluations are not redone, the report equals an uninterrupted run', async () => {
    expect(uninterrupted).toBeDefined();
    const out = join(root, 'b');
    const child = spawn(process.execPath, [CLI_PATH, ...ARGS, '--out', out], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    let before: string[] = [];
    for (let i = 0; i < 6000; i++) {
      before = await journalIds(out);
      if (before.length >= 3) break;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await exited;
    before = await journalIds(out);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(10);
    const journalBefore = await readFile(join(out, 'journal.jsonl'), 'utf8');

    // Continued in a pool of 2 worker threads: the same evaluations, wherever they run.
    const r = runCommand([...ARGS, '--out', out, '--workers', '2'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`10 evaluations, ${before.length} already done`));
    const after = await journalIds(out);
    expect(after).toHaveLength(10);
    expect(new Set(after).size).toBe(10);
    expect(after.slice(0, before.length)).toEqual(before);
    const journalAfter = await readFile(join(out, 'journal.jsonl'), 'utf8');
    expect(
      journalAfter.startsWith(journalBefore.slice(0, journalBefore.lastIndexOf('\n') + 1)),
    ).toBe(true);
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe(uninterrupted);

    // Run again: nothing left to do, nothing redone, the same report.
    const again = runCommand([...ARGS, '--out', out], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/10 evaluations, 10 already done/);
    expect(await journalIds(out)).toEqual(after);
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe(uninterrupted);
  }, 900_000);

  it('refuses other settings in an existing study folder, and a folder holding other files', async () => {
    const out = join(root, 'a');
    const r = runCommand(['study', '--budget', 'tiny', '--seeds', '3', '--out', out], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /holds a study with other settings: --seeds: the study folder has 2, this command asks for 3/,
    );
    const other = join(root, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    const o = runCommand(['study', '--budget', 'tiny', '--out', other], env);
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/holds files but no settings\.json: not a study folder/);
    expect(await readFile(join(other, 'notes.txt'), 'utf8')).toBe('mine');
    const bad = runCommand(
      ['study', '--budget', 'tiny', '--datasets', 'mnist,svhn', '--out', join(root, 'c')],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--datasets: 'svhn' is not one of mnist, fashion-mnist, cifar10/);
    expect(existsSync(join(root, 'c'))).toBe(false);
  }, 300_000);
});
