/**
 * Search throughput: evaluations per hour of one fixed small real search (NSGA-II, 8 candidates a
 * generation, real training and PGD on a synthetic data set), run from scratch three ways: a local
 * pool of 1 worker thread, a pool of 2, and the BullMQ queue with 2 `robust-nas worker` processes on
 * this machine (a redis-server started for the purpose on a free port). Every way stores the same
 * run (checked here); only the wall-clock time differs. The goals (issue 12): 2 workers at least
 * 1.8 times 1 worker on 2 cores, the queue within 10% of the local pool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SearchConfigInput } from '../src/core/search-config.js';
import { parseSearchConfig } from '../src/core/search-config.js';
import type { PoolUsage } from '../src/placement/worker-pool.js';
import { openEvaluator, type Placement } from '../src/placement/placement.js';
import { SearchRun } from '../src/runner/search-run.js';
import { FileRunStorage } from '../src/store/file-run-storage.js';
import { startRedis } from '../tests/helpers/redis.js';

const CLI = resolve('dist/cli.js');

export const THROUGHPUT_SEARCH: SearchConfigInput = {
  evaluator: 'real',
  population: 8,
  generations: 3,
  seed: 12,
  // One seed per candidate: the same 24 evaluations as the figures in the README.
  resampling: { initialSeeds: 1, maxSeeds: 1 },
  evaluation: {
    dataset: 'synthetic',
    channels: 4,
    layers: 2,
    epochs: 2,
    trainSize: 512,
    valSize: 128,
    testSize: 32,
    batchSize: 64,
    attacks: [{ name: 'pgd', eps: 0.1, steps: 5 }],
  },
};

/** How a local pool's threads spent one timed search (from the pool's own accounting). */
export interface PoolUse {
  /** Per thread: the fraction of the search's wall time it was evaluating. */
  readonly busyFraction: readonly number[];
  /** Thread-seconds idle after a thread's last evaluation of a generation until the generation ended. */
  readonly barrierIdleSeconds: number;
  /** Thread-seconds idle between evaluations within a generation (dispatch, storing in order). */
  readonly gapIdleSeconds: number;
  /** Seconds from the search's start to its first evaluation's start on a thread. */
  readonly firstStartSeconds: number;
}

export interface PlacementFigure {
  readonly evaluations: number;
  /** Evaluations that trained a network (the rest were served from the run's cache). */
  readonly computed: number;
  /** The fastest round (the machine is shared: slower rounds measure the neighbours). */
  readonly seconds: number;
  readonly evaluationsPerHour: number;
  /** Every round's seconds. */
  readonly rounds: readonly number[];
  /** Seconds to open the evaluator (a pool starts its threads and loads their backends). */
  readonly openSeconds: number;
  /** A local pool's use of its threads in the fastest round. */
  readonly pool?: PoolUse;
  /**
   * CPU seconds the search used (this process, plus the queue's worker processes), and of them this
   * process's main thread (Linux; absent elsewhere). cpuSeconds / seconds is the number of cores
   * the search kept busy; cpuSeconds / computed, the CPU cost of one evaluation.
   */
  readonly cpu?: { readonly cpuSeconds: number; readonly mainThreadCpuSeconds: number };
}

export interface SearchThroughputReport {
  readonly search: string;
  readonly workers1: PlacementFigure;
  readonly workers2: PlacementFigure;
  readonly queue2: PlacementFigure;
  /** workers2 / workers1 evaluations per hour (goal: at least 1.8 on 2 cores). */
  readonly speedup2: number;
  /** queue2 / workers2 evaluations per hour (goal: at least 0.9). */
  readonly queueVsPool: number;
  /** Whether all three stored the same evaluations (genotypes, seeds, scores; timings aside). */
  readonly identical: boolean;
}

const TICKS_PER_SECOND = 100;

/** utime + stime in seconds of /proc/<path>/stat (a process or a thread), or undefined. */
function cpuOf(path: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${path}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process, of its main thread, and of the processes `others`. */
function cpuNow(others: readonly number[]): { all: number; main: number } | undefined {
  const self = cpuOf('self');
  const main = cpuOf(`self/task/${process.pid}`);
  if (self === undefined || main === undefined) return undefined;
  return { all: self + others.reduce((n, pid) => n + (cpuOf(String(pid)) ?? 0), 0), main };
}

async function timedSearch(
  runsDir: string,
  runId: string,
  placement: Placement,
  generations: number,
  otherPids: readonly number[] = [],
): Promise<{ figure: Omit<PlacementFigure, 'rounds'>; fingerprint: string }> {
  const config = parseSearchConfig({ ...THROUGHPUT_SEARCH, generations });
  const opening = performance.now();
  const evaluator = await openEvaluator(placement, {
    workerFile: resolve('dist/placement/evaluation-worker.js'),
    generationSize: Math.max(config.population, config.offspring),
  });
  const openSeconds = (performance.now() - opening) / 1000;
  const storage = new FileRunStorage(runsDir);
  try {
    const cpuBefore = cpuNow(otherPids);
    const started = performance.now();
    const run = await SearchRun.create(config, {
      storage,
      runId,
      evaluate: evaluator.evaluate,
      concurrency: evaluator.concurrency,
    });
    const generationEnds: number[] = [];
    run.on((e) => {
      if (e.type === 'generation-finished') generationEnds.push(performance.now());
    });
    await run.run();
    const ended = performance.now();
    const cpuAfter = cpuNow(otherPids);
    const seconds = (ended - started) / 1000;
    if (run.status() !== 'completed') {
      throw new Error(`the ${runId} search ended ${run.status()}: ${run.message() ?? ''}`);
    }
    const stored = await storage.read(runId);
    const evaluations = stored.evaluations.length;
    const computed = stored.evaluations.filter((e) => !e.cached).length;
    const fingerprint = JSON.stringify(
      stored.evaluations.map((e) => {
        const { seconds: _s, ...scores } = e.scores ?? ({} as NonNullable<typeof e.scores>);
        return [e.index, e.hash, e.seed, e.status, e.cached, scores];
      }),
    );
    return {
      figure: {
        evaluations,
        computed,
        seconds: Math.round(seconds * 10) / 10,
        evaluationsPerHour: Math.round((evaluations / seconds) * 3600),
        openSeconds: Math.round(openSeconds * 10) / 10,
        ...(evaluator.usage
          ? { pool: poolUse(evaluator.usage(), started, ended, generationEnds) }
          : {}),
        ...(cpuBefore && cpuAfter
          ? {
              cpu: {
                cpuSeconds: r2(cpuAfter.all - cpuBefore.all),
                mainThreadCpuSeconds: r2(cpuAfter.main - cpuBefore.main),
              },
            }
          : {}),
      },
      fingerprint,
    };
  } finally {
    await evaluator.close();
    await storage.close();
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Splits each thread's idle time into waiting at generation ends and gaps between evaluations. */
function poolUse(
  usage: PoolUsage,
  started: number,
  ended: number,
  generationEnds: readonly number[],
): PoolUse {
  const wall = ended - started;
  const intervals = usage.intervals.filter((i) => i.start >= started && i.end <= ended);
  const bounds = [started, ...generationEnds];
  let barrier = 0;
  let gaps = 0;
  const threads = [...new Set(intervals.map((i) => i.thread))];
  for (let g = 1; g < bounds.length; g++) {
    const [from, to] = [bounds[g - 1]!, bounds[g]!];
    for (const t of threads) {
      const mine = intervals
        .filter((i) => i.thread === t && i.start >= from && i.end <= to)
        .sort((a, b) => a.start - b.start);
      if (mine.length === 0) {
        barrier += to - from;
        continue;
      }
      barrier += to - mine[mine.length - 1]!.end;
      gaps += mine[0]!.start - from;
      for (let k = 1; k < mine.length; k++) gaps += mine[k]!.start - mine[k - 1]!.end;
    }
  }
  const busy = threads.map((t) =>
    intervals.filter((i) => i.thread === t).reduce((n, i) => n + (i.end - i.start), 0),
  );
  return {
    busyFraction: busy.map((b) => r2(b / wall)),
    barrierIdleSeconds: r2(barrier / 1000),
    gapIdleSeconds: r2(gaps / 1000),
    firstStartSeconds: r2((Math.min(...intervals.map((i) => i.start)) - started) / 1000),
  };
}

function startWorker(url: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--name', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('taking jobs from queue')) ok(child);
    });
    child.once('exit', (code) => fail(new Error(`worker ${name} exited with code ${code}`)));
  });
}

/** The figure of the fastest of `rounds` timed runs of one placement. */
function best(rounds: { figure: Omit<PlacementFigure, 'rounds'> }[]): PlacementFigure {
  const fastest = rounds.reduce((a, b) => (b.figure.seconds < a.figure.seconds ? b : a));
  return { ...fastest.figure, rounds: rounds.map((r) => r.figure.seconds) };
}

/**
 * Runs the search `rounds` times each way, interleaved (1 worker, 2 workers, the queue, then again),
 * and reports each way's fastest round.
 */
export async function runSearchThroughputBench(
  rounds = 2,
  generations = THROUGHPUT_SEARCH.generations ?? 3,
): Promise<SearchThroughputReport> {
  const root = mkdtempSync(join(tmpdir(), 'robust-nas-bench-search-'));
  const redis = await startRedis();
  const workers: ChildProcess[] = [];
  try {
    workers.push(await startWorker(redis.url, 'bench-1'), await startWorker(redis.url, 'bench-2'));
    const runs = { workers1: [], workers2: [], queue2: [] } as Record<
      'workers1' | 'workers2' | 'queue2',
      Awaited<ReturnType<typeof timedSearch>>[]
    >;
    for (let round = 0; round < rounds; round++) {
      const dir = join(root, `runs-${round}`);
      runs.workers1.push(await timedSearch(dir, `workers1-${round}`, { workers: 1 }, generations));
      runs.workers2.push(await timedSearch(dir, `workers2-${round}`, { workers: 2 }, generations));
      // Another run id each round: a round must not find the jobs of the one before in Redis.
      runs.queue2.push(
        await timedSearch(
          dir,
          `queue2-${round}`,
          { queue: redis.url },
          generations,
          workers.flatMap((w) => (w.pid ? [w.pid] : [])),
        ),
      );
    }
    const one = best(runs.workers1);
    const two = best(runs.workers2);
    const queued = best(runs.queue2);
    const fingerprints = new Set(Object.values(runs).flatMap((r) => r.map((x) => x.fingerprint)));
    const c = parseSearchConfig({ ...THROUGHPUT_SEARCH, generations });
    return {
      search: `NSGA-II, population ${c.population}, ${c.generations} generations, DARTS cells of ${c.evaluation.channels} channels x ${c.evaluation.layers} layers, ${c.evaluation.epochs} epochs on ${c.evaluation.trainSize} synthetic images, PGD-${c.evaluation.attacks[0]!.steps} on ${c.evaluation.valSize}; best of ${rounds} rounds`,
      workers1: one,
      workers2: two,
      queue2: queued,
      speedup2: Math.round((two.evaluationsPerHour / one.evaluationsPerHour) * 100) / 100,
      queueVsPool: Math.round((queued.evaluationsPerHour / two.evaluationsPerHour) * 100) / 100,
      identical: fingerprints.size === 1,
    };
  } finally {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((ok) => {
            if (w.exitCode !== null) return ok();
            w.once('exit', () => ok());
            w.kill('SIGTERM');
          }),
      ),
    );
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
