/**
 * `robust-nas noise`: how much of a search's objectives belongs to the architecture and how much to
 * the training seed, at a search config's settings. Samples K genotypes from the run's space (the
 * config's seed, nodes and ops), evaluates each with the same S seeds (derived from the config's
 * seed), and reports every evaluation and, per objective, the mean, the within- and between-genotype
 * standard deviations, ICC(1) and the seeds whose mean reaches a reliability of 0.8 (noiseStats).
 * Evaluations run where the search's would (`--workers`, `--queue`, the config's placement, else one
 * at a time here). `--json` prints exactly one JSON object on stdout; progress goes to stderr.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { genotypeHash } from '../core/canonical.js';
import { InputError } from '../core/errors.js';
import { EvaluationFailure, type Scores } from '../core/evaluation.js';
import { formatGenotype } from '../core/genotype-format.js';
import type { Genotype } from '../core/genotype.js';
import { noiseStats, reliabilityAt, type NoiseStats } from '../core/noise-stats.js';
import { objectiveLabel, objectiveValues, type ObjectiveSpec } from '../core/objectives.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';
import type { SearchConfig } from '../core/search-config.js';
import { BACKEND_ENV_VAR, parseBackendName } from '../evaluator/backend.js';
import { checkSearchMemory, memoryLimitMB } from '../evaluator/memory-estimate.js';
import { createProgressBar, progressEnabled } from '../evaluator/progress.js';
import { createSurrogateEvaluate } from '../evaluator/surrogate.js';
import {
  inProcessEvaluator,
  openEvaluator,
  placementOf,
  type RunEvaluator,
} from '../placement/placement.js';
import { checkNamedDataFolder, maxMemoryOption, placementOptions } from './runs-access.js';
import type { PlacementFlags } from './runs-access.js';
import { buildSearchConfig } from './search-command.js';
import { formatTable } from './tables.js';
import { SchemaOptions } from './zod-options.js';

/** Bounds: at least 2 genotypes and 2 seeds (the statistics need both), at most 1 000 evaluations. */
export const MAX_NOISE_EVALUATIONS = 1000;

const noiseOptionsSchema = z.object({
  genotypes: z.number().int().min(2).max(100).default(6),
  seeds: z.number().int().min(2).max(50).default(3),
});

const noiseOptions = new SchemaOptions(noiseOptionsSchema.shape, {
  genotypes: { arg: 'k', description: 'genotypes sampled from the run’s space' },
  seeds: { arg: 's', description: 'seeds per genotype' },
});

/** The genotypes and seeds a noise report evaluates: a pure function of the config. */
export interface NoisePlan {
  readonly genotypes: readonly { readonly genotype: Genotype; readonly hash: string }[];
  readonly seeds: readonly number[];
}

/**
 * K distinct genotypes (by canonical hash) sampled from the config's space, from the config's seed,
 * then S evaluation seeds from the same generator; every genotype is evaluated with every seed.
 */
export function noisePlan(config: SearchConfig, genotypes: number, seeds: number): NoisePlan {
  const rng = Rng.fromSeed(`noise:${config.seed}`);
  const options = { nodes: config.nodes, ...(config.ops ? { ops: config.ops } : {}) };
  const picked: { genotype: Genotype; hash: string }[] = [];
  // A small space (few nodes and ops) may hold fewer genotypes than asked for: give up after a
  // bounded number of draws rather than loop forever.
  for (let draws = 0; picked.length < genotypes && draws < 100 * genotypes; draws++) {
    const genotype = sampleGenotype(rng, options);
    const hash = genotypeHash(genotype);
    if (!picked.some((p) => p.hash === hash)) picked.push({ genotype, hash });
  }
  if (picked.length < genotypes) {
    throw new InputError(
      `--genotypes: the config's space (nodes ${config.nodes}, ${config.ops?.length ?? 'all'} ops) gave only ${picked.length} distinct genotypes`,
    );
  }
  const seedList: number[] = [];
  while (seedList.length < seeds) {
    const s = rng.seed32();
    if (!seedList.includes(s)) seedList.push(s);
  }
  return { genotypes: picked, seeds: seedList };
}

/** One evaluation of the report: its objective values, or why it failed. */
export interface NoiseRow {
  readonly hash: string;
  readonly seed: number;
  /** The config's objectives, in its order; empty for a failed evaluation. */
  readonly objectives: readonly number[];
  /** Seconds the evaluation took (training plus attacks), as the evaluator measured them. */
  readonly seconds?: number;
  readonly failure?: string;
}

/** One objective's statistics over the rows that succeeded (null fields: too few values). */
export interface NoiseObjectiveSummary {
  readonly name: string;
  readonly mean: number | null;
  readonly withinSd: number | null;
  readonly betweenSd: number | null;
  readonly icc: number | null;
  readonly seedsFor08: number | null;
  /** Reliability of the mean over the seeds evaluated here (Spearman-Brown). */
  readonly reliabilityAtSeeds: number | null;
  /** Genotypes and evaluations that entered. */
  readonly genotypes: number;
  readonly values: number;
  /** Why there are no statistics, when there are none. */
  readonly note?: string;
}

/** Per objective: noiseStats of the successful rows grouped by genotype hash (in plan order). */
export function summarizeNoise(
  objectives: readonly ObjectiveSpec[],
  rows: readonly NoiseRow[],
  seeds: number,
): NoiseObjectiveSummary[] {
  const hashes = [...new Set(rows.map((r) => r.hash))];
  const ok = rows.filter((r) => r.failure === undefined);
  return objectives.map((o, k) => {
    const groups = hashes.map((h) =>
      ok.filter((r) => r.hash === h).map((r) => r.objectives[k] as number),
    );
    const name = objectiveLabel(o);
    let stats: NoiseStats;
    try {
      stats = noiseStats(groups);
    } catch (err) {
      const values = groups.reduce((s, g) => s + g.length, 0);
      return {
        name,
        mean: null,
        withinSd: null,
        betweenSd: null,
        icc: null,
        seedsFor08: null,
        reliabilityAtSeeds: null,
        genotypes: groups.filter((g) => g.length > 0).length,
        values,
        note: err instanceof Error ? err.message : String(err),
      };
    }
    return {
      name,
      mean: stats.mean,
      withinSd: stats.withinSd,
      betweenSd: stats.betweenSd,
      icc: stats.icc,
      seedsFor08: stats.seedsFor08,
      reliabilityAtSeeds: reliabilityAt(stats.icc, seeds),
      genotypes: stats.groups,
      values: stats.values,
    };
  });
}

/** What the action receives from commander. */
export interface NoiseOptions extends Record<string, unknown>, PlacementFlags {
  config?: string;
  json?: boolean;
  backend: string;
  dataDir?: string;
  maxMemoryMb?: string;
}

/** The evaluator: the surrogate for a surrogate config, else the real one placed as `search` does. */
async function openNoiseEvaluator(
  config: SearchConfig,
  flags: PlacementFlags,
  evaluations: number,
): Promise<RunEvaluator> {
  if (config.evaluator !== 'real') {
    return inProcessEvaluator(
      createSurrogateEvaluate(),
      'surrogate evaluator (its figures are not accuracies)',
    );
  }
  const say = (line: string) => process.stderr.write(`robust-nas: ${line}\n`);
  const evaluator = await openEvaluator(placementOf(config, flags), {
    report: say,
    generationSize: evaluations,
  });
  if (evaluator.concurrency > 1) say(evaluator.description);
  return evaluator;
}

/** Runs every evaluation of the plan (as many at once as the evaluator takes), in plan order. */
async function evaluatePlan(
  plan: NoisePlan,
  config: SearchConfig,
  evaluator: RunEvaluator,
  onDone: (row: NoiseRow) => void,
): Promise<NoiseRow[]> {
  const jobs = plan.genotypes.flatMap((g) => plan.seeds.map((seed) => ({ ...g, seed })));
  const rows: NoiseRow[] = new Array<NoiseRow>(jobs.length);
  const run = async (i: number): Promise<void> => {
    const job = jobs[i]!;
    let row: NoiseRow;
    try {
      const { scores } = await evaluator.evaluate(job.genotype, config.evaluation, job.seed);
      row = rowOf(job.hash, job.seed, config.objectives, scores);
    } catch (err) {
      // A candidate's own failure (NaN loss, a network that cannot be built) is a row; an error of
      // the machine (data missing, a crashed backend) ends the report.
      if (!(err instanceof EvaluationFailure)) throw err;
      row = { hash: job.hash, seed: job.seed, objectives: [], failure: err.message };
    }
    rows[i] = row;
    onDone(row);
  };
  let next = 0;
  const lanes = Array.from({ length: Math.min(evaluator.concurrency, jobs.length) }, async () => {
    while (next < jobs.length) await run(next++);
  });
  await Promise.all(lanes);
  return rows;
}

function rowOf(hash: string, seed: number, objectives: readonly ObjectiveSpec[], s: Scores) {
  return { hash, seed, objectives: objectiveValues(objectives, s), seconds: s.seconds.total };
}

function fixed(v: number | null, digits = 4): string {
  return v === null ? '-' : v.toFixed(digits);
}

function textReport(
  config: SearchConfig,
  plan: NoisePlan,
  rows: readonly NoiseRow[],
  summary: readonly NoiseObjectiveSummary[],
): string {
  const names = config.objectives.map(objectiveLabel);
  const rowTable = formatTable([
    ['genotype', 'seed', ...names, 'seconds'],
    ...rows.map((r) =>
      r.failure !== undefined
        ? [r.hash, String(r.seed), `failed: ${r.failure}`]
        : [
            r.hash,
            String(r.seed),
            ...r.objectives.map((v) => fixed(v)),
            r.seconds === undefined ? '-' : r.seconds.toFixed(1),
          ],
    ),
  ]);
  const statTable = formatTable([
    [
      'objective',
      'mean',
      'within sd',
      'between sd',
      'ICC(1)',
      `reliability@${plan.seeds.length}`,
      'seeds for 0.8',
    ],
    ...summary.map((s) => [
      s.name,
      fixed(s.mean),
      fixed(s.withinSd),
      fixed(s.betweenSd),
      fixed(s.icc, 3),
      fixed(s.reliabilityAtSeeds, 3),
      s.icc === null ? '-' : s.seedsFor08 === null ? 'none (ICC <= 0)' : String(s.seedsFor08),
    ]),
  ]);
  const failed = rows.filter((r) => r.failure !== undefined).length;
  const lines = [
    rowTable,
    '',
    `${plan.genotypes.length} genotypes x ${plan.seeds.length} seeds` +
      (failed > 0
        ? `; ${failed} failed evaluation${failed === 1 ? '' : 's'} left out of the statistics`
        : ''),
    statTable,
    ...summary.filter((s) => s.note !== undefined).map((s) => `${s.name}: ${s.note}`),
  ];
  if (config.evaluator !== 'real')
    lines.push('surrogate evaluator: these figures are not accuracies');
  return `${lines.join('\n')}\n`;
}

/** Registers `robust-nas noise`. */
export function registerNoiseCommand(program: Command): void {
  const command = program
    .command('noise')
    .description(
      "how much of each objective belongs to the genotype and how much to the seed, at a search config's settings (ICC, seeds for a reliable mean)",
    )
    .requiredOption(
      '--config <file>',
      'search config (JSON): its space, seed, evaluation settings and objectives',
    );
  noiseOptions.addTo(command);
  command
    .option('--json', 'print one JSON object: {rows, objectives}')
    .option('--backend <name>', 'tensorflow-gpu, tensorflow, wasm, cpu or auto', 'auto')
    .option(
      '--data-dir <dir>',
      "folder with the data set (over the config's evaluation.dataDir; default as for search)",
    )
    .addOption(maxMemoryOption());
  for (const option of placementOptions()) command.addOption(option);
  command.action(async (o: NoiseOptions) => {
    const { genotypes, seeds } = noiseOptions.parse(o);
    if (genotypes * seeds > MAX_NOISE_EVALUATIONS) {
      throw new InputError(
        `--genotypes x --seeds: at most ${MAX_NOISE_EVALUATIONS} evaluations, asked for ${genotypes * seeds}`,
      );
    }
    const parsed = await buildSearchConfig({ config: o.config });
    const config: SearchConfig =
      o.dataDir === undefined
        ? parsed
        : { ...parsed, evaluation: { ...parsed.evaluation, dataDir: o.dataDir } };
    const source = o.dataDir !== undefined ? '--data-dir' : `config file ${o.config}`;
    checkNamedDataFolder(config, source);
    checkSearchMemory(config, memoryLimitMB(o.maxMemoryMb));
    // The backend is chosen where the evaluations run (this process or its worker threads, which
    // read the environment when they start).
    const backend = parseBackendName(o.backend);
    if (backend !== 'auto') process.env[BACKEND_ENV_VAR] = backend;
    const plan = noisePlan(config, genotypes, seeds);
    const total = genotypes * seeds;
    const evaluator = await openNoiseEvaluator(config, o, total);
    const bar = createProgressBar('evaluations', total);
    let done = 0;
    let rows: NoiseRow[];
    try {
      rows = await evaluatePlan(plan, config, evaluator, (row) => {
        done += 1;
        bar.update(done);
        // Without a terminal (a log, a pipe), one line per evaluation instead of the bar.
        if (!progressEnabled()) {
          const what = row.failure !== undefined ? `failed: ${row.failure}` : 'done';
          process.stderr.write(
            `robust-nas: evaluation ${done}/${total} (${row.hash}, seed ${row.seed}) ${what}\n`,
          );
        }
      });
    } finally {
      bar.stop();
      await evaluator.close();
    }
    const summary = summarizeNoise(config.objectives, rows, seeds);
    if (o.json) {
      const genotypeText = Object.fromEntries(
        plan.genotypes.map((g) => [g.hash, formatGenotype(g.genotype, 'python')]),
      );
      process.stdout.write(
        `${JSON.stringify({ rows, objectives: summary, genotypes: genotypeText, seeds: plan.seeds, config })}\n`,
      );
      return;
    }
    process.stdout.write(textReport(config, plan, rows, summary));
  });
}
