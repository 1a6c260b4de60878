/**
 * `robust-nas noise`: how much of a search's objectives belongs to the architecture and how much to
 * the training seed, at a search config's settings (the plan, evaluations and statistics are
 * src/study/noise.ts; this command parses options, opens the evaluator and prints). Samples K genotypes from the run's space (the
 * config's seed, nodes and ops), evaluates each with the same S seeds (derived from the config's
 * seed), and reports every evaluation and, per objective, the mean, the within- and between-genotype
 * standard deviations, ICC(1) and the seeds whose mean reaches a reliability of 0.8 (noiseStats).
 * Evaluations run where the search's would (`--workers`, `--queue`, the config's placement, else on
 * every core). `--json` prints exactly one JSON object on stdout; progress goes to stderr.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatGenotype } from '../core/genotype-format.js';
import { objectiveLabel } from '../core/objectives.js';
import type { SearchConfig } from '../core/search-config.js';
import {
  evaluateNoisePlan,
  MAX_NOISE_EVALUATIONS,
  noisePlan,
  summarizeNoise,
  type NoiseObjectiveSummary,
  type NoisePlan,
  type NoiseRow,
} from '../study/noise.js';
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

const noiseOptionsSchema = z.object({
  genotypes: z.number().int().min(2).max(100).default(6),
  seeds: z.number().int().min(2).max(50).default(3),
});

const noiseOptions = new SchemaOptions(noiseOptionsSchema.shape, {
  genotypes: { arg: 'k', description: 'genotypes sampled from the run’s space' },
  seeds: { arg: 's', description: 'seeds per genotype' },
});

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
      rows = await evaluateNoisePlan(plan, config, evaluator, (row) => {
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
