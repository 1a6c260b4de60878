/** `robust-nas runs list | show <runId> | front <runId>`: the saved runs, read-only. */
import type { Command } from 'commander';
import { formatGenotype } from '../core/genotype-format.js';
import { frontMembers } from '../core/candidates.js';
import { objectiveLabel } from '../core/objectives.js';
import { runNoise, type RunNoise } from '../core/run-noise.js';
import type { RunData } from '../store/run-catalogue.js';
import { runStore, runsDirOf, runsDirOption, withInputErrors } from './runs-access.js';
import { formatTable } from './tables.js';

interface ReadOptions {
  runsDir?: string;
  json?: boolean;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/**
 * The members of a run's front after its last finished generation: each with its seeds, the means
 * and standard errors of its objectives (arrays in the run's objective order, and `objectives` by
 * label), and the HRS of its first finished seed.
 */
export function frontRows(data: RunData) {
  const last = data.generations[data.generations.length - 1];
  if (!last) return [];
  const members = frontMembers(
    data.evaluations,
    data.config.objectives,
    last.front,
    last.evaluations,
  );
  return members.map((m) => {
    const r = data.evaluations[m.index]!;
    const objectives: Record<string, number> = {};
    data.config.objectives.forEach((o, k) => (objectives[objectiveLabel(o)] = m.mean[k]!));
    return {
      index: m.index,
      generation: m.generation,
      hash: m.hash,
      genotype: m.genotype,
      seeds: m.seeds,
      mean: m.mean,
      stderr: m.stderr,
      objectives,
      hrs: r.scores?.hrs,
      surrogate: r.scores?.surrogate === true,
    };
  });
}

/** A figure with its standard error, as the front table prints it. */
function withError(mean: number, stderr: number): string {
  const large = Math.abs(mean) >= 1000;
  return large
    ? `${mean.toPrecision(4)} ± ${stderr.toPrecision(2)}`
    : `${mean.toFixed(4)} ± ${stderr.toFixed(4)}`;
}

async function listRuns(opts: ReadOptions): Promise<void> {
  const list = await runStore(runsDirOf(opts)).list();
  if (opts.json) return printJson(list);
  if (list.length === 0) return print(`no runs in ${runsDirOf(opts)}`);
  const rows = [['ID', 'STATUS', 'GENERATION', 'EVALUATIONS', 'STRATEGY', 'EVALUATOR', 'UPDATED']];
  for (const r of list) {
    rows.push(
      r.error
        ? [r.id, 'unreadable', '-', '-', '-', '-', r.error]
        : [
            r.id,
            r.status,
            `${r.generation}/${r.generations}`,
            `${r.evaluations}/${r.plannedEvaluations}`,
            r.strategy,
            r.evaluator,
            r.updatedAt,
          ],
    );
  }
  print(formatTable(rows));
}

/** The noise estimate as `runs show` prints it. */
export function noiseLines(noise: RunNoise): string[] {
  if (noise.objectives.length === 0) return [`noise: ${noise.reason ?? 'no estimate'}`];
  return noise.objectives.map(
    (o) =>
      `noise of ${o.objective}: reliability ${o.reliability.toFixed(2)} at ${+noise.seeds.toFixed(1)} seeds (ICC ${o.icc.toFixed(2)}, sd within ${o.withinSd.toPrecision(2)}, between ${o.betweenSd.toPrecision(2)}; ${noise.reevaluated} re-evaluated survivors)`,
  );
}

async function showRun(runId: string, opts: ReadOptions): Promise<void> {
  const data = await withInputErrors(() => runStore(runsDirOf(opts)).read(runId));
  const { evaluations, ...rest } = data;
  const failed = evaluations.filter((e) => e.status === 'failed').length;
  const cached = evaluations.filter((e) => e.cached).length;
  if (opts.json) {
    return printJson({
      ...rest,
      evaluationCount: evaluations.length,
      failed,
      cached,
      noise: runNoise(evaluations, data.config.objectives, data.generations),
    });
  }
  const lines = [
    `run ${data.id}${data.name ? ` (${data.name})` : ''}: ${data.status}`,
    `strategy ${data.strategy}, evaluator ${data.evaluator}${data.evaluator === 'surrogate' ? ' (surrogate scores, not accuracies)' : ''}, seed ${data.config.seed}`,
    `objectives: ${data.objectives.map((o) => `${o.direction} ${objectiveLabel(o)}`).join(', ')}`,
    `dataset ${data.config.evaluation.dataset}, population ${data.config.population}, offspring ${data.config.offspring}`,
    `generations ${data.generation}/${data.generationsPlanned}, evaluations ${data.evaluations.length}/${data.plannedEvaluations} (${cached} cached, ${failed} failed)`,
    `repeated evaluation: ${data.config.resampling.initialSeeds} seed(s) per new candidate, up to ${data.config.resampling.maxSeeds} per survivor`,
    ...noiseLines(runNoise(data.evaluations, data.config.objectives, data.generations)),
    `created ${data.createdAt}, updated ${data.updatedAt}`,
    ...(data.message ? [`message: ${data.message}`] : []),
    ...data.generations.map(
      (g) =>
        `  generation ${g.generation}: hypervolume ${g.hypervolume.toFixed(4)}, front ${g.front.length}, ${g.evaluations} evaluations`,
    ),
  ];
  print(lines.join('\n'));
}

async function showFront(runId: string, opts: ReadOptions): Promise<void> {
  const data = await withInputErrors(() => runStore(runsDirOf(opts)).read(runId));
  const rows = frontRows(data);
  if (opts.json) return printJson(rows);
  if (rows.length === 0) return print(`run ${runId} has no finished generation yet`);
  const labels = data.config.objectives.map((o) => objectiveLabel(o));
  const table = [
    ['#', 'HASH', 'SEEDS', ...labels.map((l) => l.toUpperCase()), 'HRS (SEED 0)', 'GENOTYPE'],
  ];
  for (const r of rows) {
    table.push([
      String(r.index),
      r.hash,
      String(r.seeds),
      ...labels.map((_l, k) => withError(r.mean[k]!, r.stderr[k]!)),
      r.hrs === undefined ? '-' : r.hrs.toFixed(4),
      formatGenotype(r.genotype, 'python'),
    ]);
  }
  if (data.evaluator === 'surrogate') {
    print('(surrogate evaluator: figures are a labelled function of the genotype, not accuracies)');
  }
  print('(objectives: mean ± standard error over the seeds of each candidate)');
  print(formatTable(table));
}

export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description('List and inspect saved runs.');
  runs
    .command('list')
    .description('Every run in the runs folder.')
    .addOption(runsDirOption())
    .option('--json', 'print JSON')
    .action(listRuns);
  runs
    .command('show <runId>')
    .description("A run's status, config and hypervolume per generation.")
    .addOption(runsDirOption())
    .option('--json', 'print JSON')
    .action(showRun);
  runs
    .command('front <runId>')
    .description('The Pareto front of a run (after its last finished generation).')
    .addOption(runsDirOption())
    .option('--json', 'print JSON')
    .action(showFront);
}
