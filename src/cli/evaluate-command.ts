/**
 * `robust-nas evaluate`: train one network (a DARTS genotype or a baseline) or an ensemble and report
 * clean accuracy, accuracy under each attack and eps, HRS, params, MACs and timings. `--json` prints
 * exactly one JSON object on stdout; the backend and progress bars (on a terminal) go to stderr.
 */
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import {
  BASELINE_ARCHS,
  type ArchitectureSpec,
  type BaselineArch,
} from '../evaluator/architecture.js';
import { describeBackend, initBackend, parseBackendName } from '../evaluator/backend.js';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { datasetSpec } from '../evaluator/datasets/registry.js';
import { ENSEMBLE_COMBINES, type EnsembleCombine } from '../evaluator/ensemble.js';
import { runEvaluation } from '../evaluator/evaluate.js';
import { createProgressBar, type ProgressBar } from '../evaluator/progress.js';
import {
  ATTACKS,
  DATASETS,
  evalConfigSchema,
  type AttackName,
  type DatasetName,
  type EvalConfig,
  type EvalProgress,
} from '../core/evaluation.js';
import { formatGenotype } from '../core/genotype-format.js';
import { resolveGenotype } from './genotype-resolve.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';

interface EvaluateOptions {
  saveWeights?: string;
  loadWeights?: string;
  genotype?: string;
  arch?: string;
  width?: string;
  ensemble?: string;
  ensembleRandom?: string;
  ensembleCombine: string;
  dataset: string;
  dataDir?: string;
  channels: string;
  layers: string;
  epochs: string;
  batchSize: string;
  lr: string;
  momentum: string;
  nesterov?: boolean;
  weightDecay: string;
  gradClip: string;
  cutout: string;
  dropPath: string;
  auxiliaryWeight: string;
  advTrain: string;
  advTrainEps?: string;
  trainSize: string;
  valSize: string;
  testSize: string;
  split: string;
  attack: string;
  eps?: string;
  alpha?: string;
  steps: string;
  restarts: string;
  curveEps?: string;
  seed: string;
  dataSeed?: string;
  backend: string;
  json?: boolean;
}

function number(name: string, value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InputError(`--${name}: expected a number, got '${value}'`);
  }
  return n;
}

function integer(name: string, value: string): number {
  const n = number(name, value);
  if (!Number.isSafeInteger(n))
    throw new InputError(`--${name}: expected an integer, got '${value}'`);
  return n;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A number, or a fraction like 8/255 (the usual way to write eps). */
function epsValue(name: string, value: string): number {
  const m = /^\s*([0-9.]+)\s*\/\s*([0-9.]+)\s*$/.exec(value);
  if (m) return number(name, m[1] as string) / number(name, m[2] as string);
  return number(name, value);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(`--${name}: '${value}' is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** The evaluation config the options describe (validated with the shared zod schema). */
export function configFromOptions(o: EvaluateOptions): EvalConfig {
  const dataset = oneOf<DatasetName>('dataset', o.dataset, DATASETS);
  const names = list(o.attack).map((a) => oneOf<AttackName>('attack', a, ATTACKS));
  if (names.length === 0) throw new InputError('--attack: give at least one attack');
  const epsList = o.eps
    ? list(o.eps).map((e) => epsValue('eps', e))
    : [datasetSpec(dataset).defaultEps];
  if (epsList.length === 0) throw new InputError('--eps: give at least one value');
  const steps = integer('steps', o.steps);
  const restarts = integer('restarts', o.restarts);
  const alpha = o.alpha !== undefined ? epsValue('alpha', o.alpha) : undefined;
  const attacks = names.flatMap((name) =>
    epsList.map((eps) => ({
      name,
      eps,
      steps,
      restarts,
      ...(alpha !== undefined ? { alpha } : {}),
    })),
  );
  const raw = {
    dataset,
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    channels: integer('channels', o.channels),
    layers: integer('layers', o.layers),
    epochs: number('epochs', o.epochs),
    batchSize: integer('batch-size', o.batchSize),
    learningRate: number('lr', o.lr),
    momentum: number('momentum', o.momentum),
    nesterov: Boolean(o.nesterov),
    weightDecay: number('weight-decay', o.weightDecay),
    gradClip: number('grad-clip', o.gradClip),
    cutout: integer('cutout', o.cutout),
    dropPath: number('drop-path', o.dropPath),
    auxiliaryWeight: number('auxiliary-weight', o.auxiliaryWeight),
    adversarialTraining: oneOf('adv-train', o.advTrain, ['none', 'fast-fgsm'] as const),
    ...(o.advTrainEps !== undefined
      ? { adversarialTrainingEps: epsValue('adv-train-eps', o.advTrainEps) }
      : {}),
    trainSize: integer('train-size', o.trainSize),
    valSize: integer('val-size', o.valSize),
    testSize: integer('test-size', o.testSize),
    split: oneOf('split', o.split, ['val', 'test'] as const),
    attacks,
    curveEps: o.curveEps ? list(o.curveEps).map((e) => epsValue('curve-eps', e)) : [],
    dataSeed: o.dataSeed !== undefined ? integer('data-seed', o.dataSeed) : integer('seed', o.seed),
  };
  const r = evalConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(`invalid option ${issue?.path.join('.') || ''}: ${issue?.message}`);
  }
  return r.data;
}

function memberSpec(name: string, width?: number): ArchitectureSpec {
  const lower = name.trim().toLowerCase();
  if ((BASELINE_ARCHS as readonly string[]).includes(lower)) {
    return { arch: lower as BaselineArch, ...(width !== undefined ? { width } : {}) };
  }
  return { genotype: resolveGenotype(name) };
}

/** What to evaluate: exactly one of --genotype, --arch, --ensemble, --ensemble-random. */
export function membersFromOptions(o: EvaluateOptions, seed: number): ArchitectureSpec[] {
  const given = [o.genotype, o.arch, o.ensemble, o.ensembleRandom].filter((v) => v !== undefined);
  if (given.length === 0) {
    throw new InputError('give a network: --genotype, --arch, --ensemble or --ensemble-random');
  }
  if (given.length > 1) {
    throw new InputError('give only one of --genotype, --arch, --ensemble, --ensemble-random');
  }
  const width = o.width !== undefined ? number('width', o.width) : undefined;
  if (o.genotype !== undefined) return [{ genotype: resolveGenotype(o.genotype) }];
  if (o.arch !== undefined) {
    const arch = oneOf<BaselineArch>('arch', o.arch.trim().toLowerCase(), BASELINE_ARCHS);
    return [{ arch, ...(width !== undefined ? { width } : {}) }];
  }
  if (o.ensemble !== undefined) {
    const names = list(o.ensemble);
    if (names.length === 0)
      throw new InputError('--ensemble: give a comma-separated list of networks');
    return names.map((n) => memberSpec(n, width));
  }
  const k = integer('ensemble-random', o.ensembleRandom as string);
  if (k < 1 || k > 64) throw new InputError('--ensemble-random: expected 1 to 64 members');
  const rng = Rng.fromSeed(`ensemble-random:${seed}`);
  return Array.from({ length: k }, () => ({ genotype: sampleGenotype(rng, { nodes: 4 }) }));
}

function describeMember(m: ArchitectureSpec): Record<string, unknown> {
  return 'genotype' in m
    ? { genotype: formatGenotype(m.genotype, 'python') }
    : { arch: m.arch, width: m.width ?? 1 };
}

function percent(p: number): string {
  return `${(100 * p).toFixed(2)}%`;
}

class PhaseBars {
  private bar?: ProgressBar;
  private phase?: string;
  update(p: EvalProgress): void {
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.phase = p.phase;
      this.bar = createProgressBar(p.phase, p.total);
    }
    this.bar?.update(p.done, p.total);
  }
  stop(): void {
    this.bar?.stop();
  }
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description(
      'train a network (DARTS genotype, baseline or ensemble) and report clean and adversarial accuracy',
    )
    .option('--genotype <genotype>', 'published name (DARTS_V2, ...), genotype string or file')
    .option('--arch <arch>', `baseline architecture (${BASELINE_ARCHS.join(', ')})`)
    .option('--width <multiplier>', 'baseline width multiplier (default 1)')
    .option(
      '--ensemble <list>',
      'comma-separated networks (genotypes or baselines) trained separately',
    )
    .option('--ensemble-random <k>', 'an ensemble of K random DARTS genotypes (drawn from --seed)')
    .option(
      '--ensemble-combine <how>',
      `combine members by ${ENSEMBLE_COMBINES.join(' or ')}`,
      'logits',
    )
    .option('--dataset <name>', `data set (${DATASETS.join(', ')})`, 'mnist')
    .option(
      '--data-dir <dir>',
      "folder with mnist/, fashion-mnist/, cifar-10/, or the data set's own folder (default: $ROBUST_NAS_DATA, the user cache, the bundled MNIST)",
    )
    .option('--channels <n>', 'initial channels', '8')
    .option('--layers <n>', 'cells', '5')
    .option('--epochs <n>', 'training epochs (may be fractional)', '1')
    .option('--batch-size <n>', 'batch size', '64')
    .option('--lr <rate>', 'initial learning rate (cosine schedule to 0)', '0.025')
    .option('--momentum <m>', 'SGD momentum', '0.9')
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <wd>', 'weight decay', '3e-4')
    .option('--grad-clip <norm>', 'gradient-norm clipping', '5')
    .option('--cutout <length>', 'cutout square side (0: off)', '0')
    .option('--drop-path <p>', 'final drop-path probability (grows linearly from 0)', '0')
    .option('--auxiliary-weight <w>', 'weight of the auxiliary head loss (0: no head)', '0')
    .option('--adv-train <kind>', 'adversarial training: none or fast-fgsm', 'none')
    .option('--adv-train-eps <eps>', 'fast-fgsm budget (default: the data set default eps)')
    .option('--train-size <n>', 'training images', '5000')
    .option('--val-size <n>', 'validation images (carved from the training data)', '1000')
    .option('--test-size <n>', 'test images', '1000')
    .option('--split <split>', 'scored split: test (final report) or val (as a search)', 'test')
    .option('--attack <list>', `comma-separated attacks (${ATTACKS.join(', ')})`, 'pgd')
    .option(
      '--eps <list>',
      'comma-separated L-inf budgets in pixel units, e.g. 0.1 or 8/255 (default: MNIST/Fashion 0.1, CIFAR-10 2/255)',
    )
    .option('--alpha <step>', 'attack step size (default: PGD eps/4, R-FGSM eps/2)')
    .option('--steps <n>', 'iterations of PGD / APGD-CE', '10')
    .option('--restarts <n>', 'random restarts of PGD / APGD-CE', '1')
    .option('--curve-eps <list>', 'eps sweep for the robustness curve (first attack)')
    .option('--seed <n>', 'seed of initialisation, batch order and attacks', '0')
    .option('--data-seed <n>', 'seed of the train/val/test subsets (default: --seed)')
    .option('--backend <name>', 'tensorflow-gpu, tensorflow, wasm, cpu or auto', 'auto')
    .option('--save-weights <file>', 'write the trained weights to this file (one network)')
    .option(
      '--load-weights <file>',
      'skip training: attack a network with these saved weights (e.g. runs/<id>/weights/<n>.weights)',
    )
    .option('--json', 'print one JSON object')
    .action(async (o: EvaluateOptions) => {
      const seed = integer('seed', o.seed);
      if (seed < 0) throw new InputError('--seed: expected a non-negative integer');
      const config = configFromOptions(o);
      // A named data folder (--data-dir, else ROBUST_NAS_DATA) must hold the data set: checked now,
      // before the backend loads, so a typo fails at once instead of training on other data.
      resolveNamedDataDir(config.dataset, config.dataDir, { label: '--data-dir' });
      const members = membersFromOptions(o, seed);
      const combine = oneOf<EnsembleCombine>(
        'ensemble-combine',
        o.ensembleCombine,
        ENSEMBLE_COMBINES,
      );
      const backend = await initBackend(parseBackendName(o.backend));
      process.stderr.write(`robust-nas: ${describeBackend(backend)}\n`);
      const bars = new PhaseBars();
      let report;
      try {
        report = await runEvaluation({
          members,
          combine,
          config,
          seed,
          onProgress: (p) => bars.update(p),
          ...(o.saveWeights !== undefined ? { saveWeightsTo: o.saveWeights } : {}),
          ...(o.loadWeights !== undefined ? { loadWeightsFrom: o.loadWeights } : {}),
        });
      } finally {
        bars.stop();
      }
      for (const note of report.data.notes) process.stderr.write(`robust-nas: ${note}\n`);
      const { scores } = report;
      const target =
        members.length === 1
          ? describeMember(members[0] as ArchitectureSpec)
          : { ensemble: members.map(describeMember), combine };
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify({ ...target, ...scores, data: report.data, training: report.training, seed, config })}\n`,
        );
        return;
      }
      const lines = [
        `network:   ${members.length === 1 ? JSON.stringify(describeMember(members[0] as ArchitectureSpec)) : `ensemble of ${members.length} (${combine})`}`,
        `data:      ${config.dataset} (${report.data.source}), trained on ${report.data.trainImages}, scored on ${report.data.scoredImages} ${config.split} images`,
        `params:    ${scores.params}   MACs: ${scores.macs}`,
        `clean:     ${percent(scores.clean.accuracy)} ± ${percent(scores.clean.stderr)} (n=${scores.clean.n})`,
        ...scores.adversarial.map(
          (a) =>
            `${a.attack.padEnd(8)} eps ${a.eps.toFixed(4)}: ${percent(a.accuracy)} ± ${percent(a.stderr)} (n=${a.n})`,
        ),
        `HRS:       ${percent(scores.hrs)}`,
        ...(scores.curve
          ? [
              `curve:     ${scores.curve.map((p) => `${p.eps.toFixed(4)}:${percent(p.accuracy)}`).join(' ')}  mean ${percent(scores.curveMean ?? 0)}`,
            ]
          : []),
        `seconds:   train ${scores.seconds.train.toFixed(1)}, attack ${scores.seconds.attack.toFixed(1)}, total ${scores.seconds.total.toFixed(1)} (${scores.backend})`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
