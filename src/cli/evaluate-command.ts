/**
 * `robust-nas evaluate`: train one network (a DARTS genotype or a baseline) or an ensemble and report
 * clean accuracy, accuracy under each attack and eps, HRS, params, MACs and timings. `--json` prints
 * exactly one JSON object on stdout; the backend and progress bars (on a terminal) go to stderr.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';
import {
  BASELINE_ARCHS,
  type ArchitectureSpec,
  type BaselineArch,
} from '../evaluator/architecture.js';
import { describeBackend, initBackend, parseBackendName } from '../evaluator/backend.js';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { ENSEMBLE_COMBINES } from '../evaluator/ensemble.js';
import { runEvaluation } from '../evaluator/evaluate.js';
import {
  checkEvaluationMemory,
  MAX_MEMORY_ENV_VAR,
  memoryLimitMB,
} from '../evaluator/memory-estimate.js';
import { writeWeightsFile } from '../evaluator/weights.js';
import { evalConfigSchema, type EvalConfig } from '../core/evaluation.js';
import { formatGenotype } from '../core/genotype-format.js';
import { resolveGenotype } from './genotype-resolve.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';
import { DEFAULT_SEARCH_EPS } from '../core/objectives.js';
import {
  attackListOptions,
  attacksFromOptions,
  attackSettingOptions,
  evaluationOptions,
} from './evaluation-options.js';
import { PhaseBars } from './progress.js';
import { SchemaOptions, splitList } from './zod-options.js';

/** The options of `evaluate` that are not fields of the evaluation config. */
const evaluateOnlySchema = z.object({
  seed: z.number().int().min(0).default(0),
  width: z.number().positive().optional(),
  ensembleRandom: z.number().int().min(1).max(64).optional(),
  ensembleCombine: z.enum(ENSEMBLE_COMBINES).default('logits'),
});

/**
 * The evaluation config's scalar fields as options, shared with `search` (evaluation-options.ts);
 * evaluate scores the test split by default, and its subsets follow --seed.
 */
const configOptions = evaluationOptions('value', {
  split: {
    arg: 'split',
    description: 'scored split: test (final report) or val (as a search)',
    default: 'test',
  },
  dataSeed: { arg: 'n', description: 'seed of the train/val/test subsets (default: --seed)' },
});

/** Attack settings applied to every attack and eps (attackSpecSchema). */
const attackOptions = attackSettingOptions('value');

const commandOptions = new SchemaOptions(evaluateOnlySchema.shape, {
  seed: { arg: 'n', description: 'seed of initialisation, batch order and attacks' },
  width: { arg: 'multiplier', description: 'baseline width multiplier (default 1)' },
  ensembleRandom: {
    arg: 'k',
    description: 'an ensemble of K random DARTS genotypes (drawn from --seed)',
  },
  ensembleCombine: { arg: 'how', description: 'how members are combined' },
});

/** What `evaluate`'s action receives from commander. */
export interface EvaluateOptions extends Record<string, unknown> {
  genotype?: string;
  arch?: string;
  ensemble?: string;
  attack: string;
  eps?: number[];
  curveEps?: number[];
  backend: string;
  saveWeights?: string;
  loadWeights?: string;
  maxMemoryMb?: string;
  json?: boolean;
}

/** The evaluation config the options describe (validated with the shared zod schema). */
export function configFromOptions(o: EvaluateOptions): EvalConfig {
  const fields = configOptions.values(o);
  const { dataset } = configOptions.parse(o);
  const attacks = attacksFromOptions(
    { attack: o.attack, eps: o.eps ?? [DEFAULT_SEARCH_EPS[dataset]] },
    dataset,
    attackOptions.values(o),
  );
  const { seed } = commandOptions.parse(o);
  const r = evalConfigSchema.safeParse({
    ...fields,
    attacks,
    curveEps: o.curveEps ?? [],
    dataSeed: fields.dataSeed ?? seed,
  });
  if (!r.success) throw new InputError(`invalid options: ${formatIssues(r.error)}`);
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
  const { width, ensembleRandom: k } = commandOptions.values(o);
  if (o.genotype !== undefined) return [{ genotype: resolveGenotype(o.genotype) }];
  if (o.arch !== undefined) {
    const arch = o.arch.trim().toLowerCase();
    if (!(BASELINE_ARCHS as readonly string[]).includes(arch)) {
      throw new InputError(`--arch: '${o.arch}' is not one of ${BASELINE_ARCHS.join(', ')}`);
    }
    return [{ arch: arch as BaselineArch, ...(width !== undefined ? { width } : {}) }];
  }
  if (o.ensemble !== undefined) {
    const names = splitList(o.ensemble);
    if (names.length === 0)
      throw new InputError('--ensemble: give a comma-separated list of networks');
    return names.map((n) => memberSpec(n, width));
  }
  const rng = Rng.fromSeed(`ensemble-random:${seed}`);
  return Array.from({ length: k ?? 1 }, () => ({ genotype: sampleGenotype(rng) }));
}

function describeMember(m: ArchitectureSpec): Record<string, unknown> {
  return 'genotype' in m
    ? { genotype: formatGenotype(m.genotype, 'python') }
    : { arch: m.arch, width: m.width ?? 1 };
}

function percent(p: number): string {
  return `${(100 * p).toFixed(2)}%`;
}

export function registerEvaluateCommand(program: Command): void {
  const command = program
    .command('evaluate')
    .description(
      'train a network (DARTS genotype, baseline or ensemble) and report clean and adversarial accuracy',
    )
    .option('--genotype <genotype>', 'published name (DARTS_V2, ...), genotype string or file')
    .option('--arch <arch>', `baseline architecture (${BASELINE_ARCHS.join(', ')})`)
    .option(
      '--ensemble <list>',
      'comma-separated networks (genotypes or baselines) trained separately',
    );
  commandOptions.addTo(command);
  configOptions.addTo(command);
  for (const option of attackListOptions('pgd')) command.addOption(option);
  attackOptions.addTo(command);
  command
    .option('--backend <name>', 'tensorflow-gpu, tensorflow, wasm, cpu or auto', 'auto')
    .option(
      '--max-memory-mb <mb>',
      `refuse networks whose estimated training or attack memory exceeds this (default: $${MAX_MEMORY_ENV_VAR} or 4096)`,
    )
    .option('--save-weights <file>', 'write the trained weights to this file (one network)')
    .option(
      '--load-weights <file>',
      'skip training: attack a network with these saved weights (e.g. runs/<id>/weights/<n>.weights)',
    )
    .option('--json', 'print one JSON object')
    .action(async (o: EvaluateOptions) => {
      const { seed, ensembleCombine: combine } = commandOptions.parse(o);
      const config = configFromOptions(o);
      const members = membersFromOptions(o, seed);
      // Checks of the config against this machine (data folder, memory estimate) go here: each
      // throws an InputError (exit 2) before the backend starts. A network too big for the backend
      // would crash it (DARTS networks; the baselines' sizes are fixed by their width). A named
      // data folder (--data-dir, else ROBUST_NAS_DATA) must hold the data set, so a typo fails at
      // once instead of training on other data.
      resolveNamedDataDir(config.dataset, config.dataDir, { label: '--data-dir' });
      checkEvaluationMemory(
        members.flatMap((m) => ('genotype' in m ? [m.genotype] : [])),
        config,
        memoryLimitMB(o.maxMemoryMb),
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
          ...(o.saveWeights !== undefined ? { keepWeights: true } : {}),
          ...(o.loadWeights !== undefined ? { loadWeightsFrom: o.loadWeights } : {}),
        });
      } finally {
        bars.stop();
      }
      if (o.saveWeights !== undefined && report.weights) {
        await writeWeightsFile(o.saveWeights, report.weights);
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
