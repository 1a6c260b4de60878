/**
 * Load measurement of the live feed (issue 11): a real `robust-nas serve` process runs a surrogate
 * search while this process connects live-feed clients to it; measured are the search's
 * evaluations per second (from the API's stored count, over a window after every client has its
 * snapshot) and the server's resident memory over time (/proc/<pid>/status). Reading clients
 * behave like the dashboard (acknowledge, apply each batch with core's applyBatch); stuck clients
 * subscribe and never read (tests/helpers/raw-ws-client.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import {
  applyBatch,
  decodeBatch,
  type EncodedChangeBatch,
  type ChangeBatch,
  type RunSnapshot,
} from '../../src/core/live-feed.js';
import { CLI_PATH } from './cli.js';
import { stuckSubscriber, type StuckClient } from './raw-ws-client.js';

export interface LoadScenario {
  /** Clients that read and acknowledge, as the dashboard does. */
  readonly clients: number;
  /** Clients that subscribe and never read (they keep answering the heartbeat). */
  readonly stuck?: number;
  /** Length of the measured window (s). */
  readonly seconds: number;
  /** The surrogate's delay per evaluation (ms). */
  readonly delayMs: number;
}

export interface LoadResult extends LoadScenario {
  readonly evaluations: number;
  readonly evaluationsPerSecond: number;
  /** Server RSS in MB, sampled every second from the start of the window. */
  readonly rssMb: readonly number[];
  /** Evaluations the slowest reading client was behind the server at the end of the window. */
  readonly clientLag: number;
  readonly disconnected: number;
  /** CPU time of the server process per evaluation (ms), robust to other load on the machine. */
  readonly serverCpuMsPerEvaluation: number;
  /** The machine's 1-minute load average at the end (2 cores). */
  readonly loadAverage: number;
}

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

async function startServe(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const env = { ...process.env };
  delete env.ROBUST_NAS_TOKEN;
  // LOAD_SERVER_NODE_OPTIONS: extra node flags for the server (e.g. --cpu-prof).
  const flags = (process.env.LOAD_SERVER_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const args = [...flags, CLI_PATH, 'serve', '--port', '0', '--runs-dir', dir];
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, url };
}

async function storedCount(url: string, runId: string): Promise<number> {
  const r = await fetch(new URL(`/api/runs/${runId}`, url));
  return ((await r.json()) as { run: { evaluations: number } }).run.evaluations;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one scenario against a fresh server and runs folder. */
export async function measureLoad(scenario: LoadScenario): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'robust-nas-load-'));
  const { child, url } = await startServe(dir);
  const sockets: Socket[] = [];
  const stuck: StuckClient[] = [];
  try {
    const res = await fetch(new URL('/api/runs', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        population: 20,
        generations: 100_000,
        seed: 1,
        evaluator: 'surrogate',
        surrogateDelayMs: scenario.delayMs,
      }),
    });
    if (res.status !== 201) throw new Error(`POST /api/runs: ${res.status} ${await res.text()}`);
    const runId = ((await res.json()) as { run: { id: string } }).run.id;
    await sleep(1000); // some evaluations, so snapshots are not empty

    const states: (RunSnapshot | undefined)[] = [];
    let disconnected = 0;
    for (let i = 0; i < scenario.clients; i++) {
      const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
      sockets.push(socket);
      states.push(undefined);
      socket.on('disconnect', () => (disconnected += 1));
      socket.on('snapshot', (s: RunSnapshot, ack: () => void) => {
        states[i] = s;
        ack();
      });
      socket.on('events', (message: EncodedChangeBatch | ChangeBatch, ack: () => void) => {
        const batch = decodeBatch(message);
        ack();
        const s = states[i];
        if (!s) return;
        const next = applyBatch(s, batch);
        if (next === 'resync') socket.emit('subscribe', { runId });
        else states[i] = next;
      });
      socket.emit('subscribe', { runId });
    }
    const port = Number(new URL(url).port);
    for (let i = 0; i < (scenario.stuck ?? 0); i++) stuck.push(await stuckSubscriber(port, runId));
    const deadline = Date.now() + 60_000;
    while (states.some((s) => s === undefined)) {
      if (Date.now() > deadline) throw new Error('clients did not get their snapshots');
      await sleep(50);
    }
    await sleep(1000);

    const rss: number[] = [rssMb(child.pid!)];
    const e0 = await storedCount(url, runId);
    const c0 = cpuMs(child.pid!);
    const t0 = performance.now();
    for (let s = 1; s <= scenario.seconds; s++) {
      await sleep(t0 + s * 1000 - performance.now());
      rss.push(rssMb(child.pid!));
    }
    const e1 = await storedCount(url, runId);
    const c1 = cpuMs(child.pid!);
    const t1 = performance.now();
    const lag = Math.max(0, ...states.map((s) => e1 - (s?.view.evaluations.length ?? 0)));
    return {
      ...scenario,
      evaluations: e1 - e0,
      evaluationsPerSecond: Math.round(((e1 - e0) / ((t1 - t0) / 1000)) * 10) / 10,
      rssMb: rss,
      clientLag: lag,
      disconnected,
      serverCpuMsPerEvaluation: Math.round(((c1 - c0) / Math.max(1, e1 - e0)) * 100) / 100,
      loadAverage: loadavg()[0]!,
    };
  } finally {
    for (const s of sockets) s.close();
    for (const c of stuck) c.close();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

export function describeLoad(r: LoadResult): string {
  const rss = r.rssMb;
  return (
    `${r.clients} reading + ${r.stuck ?? 0} stuck clients, ${r.seconds} s, surrogate delay ` +
    `${r.delayMs} ms: ${r.evaluationsPerSecond} evaluations/s (${r.evaluations}); server RSS ` +
    `${rss[0]} MB at start, max ${Math.max(...rss)} MB, ${rss[rss.length - 1]} MB at end; ` +
    `slowest client ${r.clientLag} evaluations behind; ${r.disconnected} reading clients ` +
    `disconnected; server CPU ${r.serverCpuMsPerEvaluation} ms per evaluation; load average ` +
    `${r.loadAverage.toFixed(1)}`
  );
}
