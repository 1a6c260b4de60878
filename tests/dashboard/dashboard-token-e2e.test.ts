/**
 * The dashboard against a server with an access token, in Debian's headless Chromium: the page
 * loads (its files are public), asks for the token once, then lists the runs, follows a run live
 * over socket.io, controls it and downloads its CSV with that token; a page from another origin
 * can neither read the API nor open the live feed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, testChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'correct-horse-battery';

const CONFIG = {
  population: 4,
  generations: 40,
  seed: 5,
  evaluator: 'surrogate',
  surrogateDelayMs: 100,
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
};

let runsDir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
let runId: string;
let evil: Server;

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-token-e2e-'));
  server = await startServer({ port: 0, runsDir, token: TOKEN });
  const res = await fetch(new URL('/api/runs', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(CONFIG),
  });
  expect(res.status).toBe(201);
  runId = ((await res.json()) as { run: { id: string } }).run.id;
  // Another site on another port of the same machine.
  evil = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  // The Chromium of the devDependency @sparticuz/chromium, or CHROMIUM_PATH (tests/helpers/chromium.ts).
  const browserInfo = await testChromium();
  browser = await chromium.launch({
    executablePath: browserInfo.executablePath,
    env: browserInfo.env,
    args: [...CHROMIUM_ARGS],
  });
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => evil?.close(r));
  await server?.close();
  if (runsDir) await rm(runsDir, { recursive: true, force: true });
});

describe('the dashboard with a token', () => {
  it('asks for the token once, then lists, follows, controls and exports', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#token-box:not([hidden])');
    expect(await page.locator('#runs li').count()).toBe(0);
    await page.fill('#token', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector(`#runs li[data-run-id="${runId}"]`);
    await page.waitForSelector('#connection[data-status="connected"]');
    await expect.poll(() => page.locator('#scatter circle.dot').count()).toBeGreaterThan(0);

    await page.click('#pause');
    await page.waitForSelector('#run-status.status-paused');
    expect((await server.manager.projection(runId))?.status).toBe('paused');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const file = await download.path();
    expect(file).toBeTruthy();
    expect(download.suggestedFilename()).toBe(`${runId}.csv`);

    // The token lives for the session: a reload does not ask again.
    await page.reload();
    await page.waitForSelector('#connection[data-status="connected"]');
    await page.waitForSelector(`#runs li[data-run-id="${runId}"]`);
    expect(await page.locator('#token-box').isHidden()).toBe(true);
  });

  it('a page of another origin can neither read the API nor open the live feed', async () => {
    const other = await browser.newPage();
    const before = (await server.manager.list()).length;
    try {
      const { port } = evil.address() as AddressInfo;
      await other.goto(`http://127.0.0.1:${port}/`);
      const outcome = await other.evaluate(
        async ({ url, token }) => {
          const tryFetch = async (init: RequestInit) => {
            try {
              const r = await fetch(`${url}api/runs`, init);
              return r.status;
            } catch {
              return 'blocked';
            }
          };
          const form = new FormData();
          form.append('a', '1');
          const ws = await new Promise<string>((done) => {
            const s = new WebSocket(
              `${url.replace('http', 'ws')}socket.io/?EIO=4&transport=websocket`,
            );
            s.onopen = () => done('open');
            s.onerror = () => done('refused');
          });
          return {
            read: await tryFetch({ headers: { authorization: `Bearer ${token}` } }),
            noCors: await tryFetch({ method: 'POST', mode: 'no-cors', body: form }),
            ws,
          };
        },
        { url: server.url, token: TOKEN },
      );
      // Even with the token a foreign page cannot read (no CORS, and the server refuses its
      // Origin); a form-like post is refused (403); the websocket handshake is refused.
      expect(outcome.read).toBe('blocked');
      expect(outcome.ws).toBe('refused');
      expect((await server.manager.list()).length).toBe(before);
    } finally {
      await other.close();
    }
  });
});
