/**
 * The network, training, data and attack options that `evaluate` and `search` share: one
 * definition of each (flag, placeholder, description), built from evalConfigSchema and
 * attackSpecSchema by zod-options.ts, so both commands accept the same flags with the same bounds.
 * `evaluate` gives them values (its defaults), `search` only shows the defaults in --help so that a
 * config file can supply the field.
 */
import { Option } from 'commander';
import { InputError } from '../core/errors.js';
import {
  ATTACKS,
  attackSpecSchema,
  evalConfigSchema,
  type AttackName,
  type DatasetName,
} from '../core/evaluation.js';
import { formatIssues } from '../core/issues.js';
import { DEFAULT_SEARCH_EPS } from '../core/objectives.js';
import {
  fractionText,
  listArgParser,
  SchemaOptions,
  splitList,
  type DefaultMode,
  type OptionSpec,
} from './zod-options.js';

type EvalShape = typeof evalConfigSchema.shape;

/** The evaluation config's scalar fields offered by both commands (all but `split`). */
export const EVALUATION_OPTION_SPECS = {
  dataset: {
    arg: 'name',
    description:
      "data set: mnist, fashion-mnist, cifar10, synthetic (generated), or your own images: 'folder' or 'npz' with --data-dir",
  },
  dataDir: {
    arg: 'dir',
    description:
      "folder with mnist/, fashion-mnist/, cifar-10/, or the data set's own folder (default: $ROBUST_NAS_DATA, the user cache, the bundled MNIST); for --dataset folder a folder holding train/<class>/ and test/<class>/ images, for --dataset npz a .npz file (x_train, y_train, x_test, y_test)",
  },
  channels: { arg: 'n', description: 'initial channels' },
  layers: { arg: 'n', description: 'cells' },
  epochs: { arg: 'n', description: 'training epochs (may be fractional)' },
  batchSize: { arg: 'n', description: 'batch size' },
  learningRate: {
    flag: 'lr',
    arg: 'rate',
    description: 'initial learning rate (cosine schedule to 0)',
  },
  momentum: { arg: 'm', description: 'SGD momentum' },
  nesterov: { description: 'Nesterov momentum' },
  weightDecay: { arg: 'wd', description: 'weight decay' },
  gradClip: { arg: 'norm', description: 'gradient-norm clipping' },
  cutout: { arg: 'length', description: 'cutout square side (0: off)' },
  dropPath: { arg: 'p', description: 'final drop-path probability (grows linearly from 0)' },
  auxiliaryWeight: { arg: 'w', description: 'weight of the auxiliary head loss (0: no head)' },
  adversarialTraining: { flag: 'adv-train', arg: 'kind', description: 'adversarial training' },
  adversarialTrainingEps: {
    flag: 'adv-train-eps',
    arg: 'eps',
    description: 'fast-fgsm budget (default: the data set default eps)',
    parse: fractionText,
  },
  trainSize: { arg: 'n', description: 'training images' },
  valSize: { arg: 'n', description: 'validation images (carved from the training data)' },
  testSize: { arg: 'n', description: 'test images' },
  dataSeed: { arg: 'n', description: 'seed of the train/val/test subsets' },
} as const satisfies { readonly [K in keyof EvalShape]?: OptionSpec };

export type EvaluationOptionField = keyof typeof EVALUATION_OPTION_SPECS;

/** Attack settings applied to every attack and eps (attackSpecSchema). */
export const ATTACK_SETTING_SPECS = {
  alpha: {
    arg: 'step',
    description: 'attack step size (default: PGD eps/4, R-FGSM eps/2)',
    parse: fractionText,
  },
  steps: { arg: 'n', description: 'iterations of PGD / APGD-CE' },
  restarts: { arg: 'n', description: 'random restarts of PGD / APGD-CE' },
} as const satisfies { readonly [K in keyof typeof attackSpecSchema.shape]?: OptionSpec };

/** The evaluation-config options, with `extra` fields (e.g. evaluate's `split`). */
export function evaluationOptions<X extends keyof EvalShape & string = never>(
  mode: DefaultMode,
  extra: { readonly [P in X]: OptionSpec } = {} as { readonly [P in X]: OptionSpec },
): SchemaOptions<EvalShape, EvaluationOptionField | X> {
  const table = { ...EVALUATION_OPTION_SPECS, ...extra } as {
    readonly [P in EvaluationOptionField | X]: OptionSpec;
  };
  return new SchemaOptions<EvalShape, EvaluationOptionField | X>(
    evalConfigSchema.shape,
    table,
    mode,
  );
}

/** The attack-setting options (--alpha, --steps, --restarts). */
export function attackSettingOptions(mode: DefaultMode) {
  return new SchemaOptions(attackSpecSchema.shape, ATTACK_SETTING_SPECS, mode);
}

/** `--attack <list>`, `--eps <list>` and `--curve-eps <list>`; `attackDefault` e.g. 'pgd'. */
export function attackListOptions(attackDefault?: string): Option[] {
  const attack = new Option('--attack <list>', `comma-separated attacks (${ATTACKS.join(', ')})`);
  if (attackDefault !== undefined) attack.default(attackDefault);
  return [
    attack,
    new Option(
      '--eps <list>',
      'comma-separated L-inf budgets in pixel units, e.g. 0.1 or 8/255 (default: MNIST/Fashion 0.1, CIFAR-10 and your own images 2/255)',
    ).argParser(listArgParser(fractionText)),
    new Option('--curve-eps <list>', 'eps sweep for the robustness curve (first attack)').argParser(
      listArgParser(fractionText),
    ),
  ];
}

/** What the attack-list options hold after parsing. */
export interface AttackListValues {
  attack?: string;
  eps?: number[];
}

/** The attack names of `--attack` (InputError naming a bad one). */
export function attackNames(text: string): AttackName[] {
  const names = splitList(text).map((a) => {
    const r = attackSpecSchema.shape.name.safeParse(a);
    if (!r.success) throw new InputError(`--attack: '${a}': ${formatIssues(r.error)}`);
    return r.data;
  });
  if (names.length === 0) throw new InputError('--attack: give at least one attack');
  return names;
}

/**
 * The attacks `--attack` and `--eps` describe (every attack at every eps, with the attack
 * settings), or undefined when neither was given. `defaultAttack` names the attack when only
 * `--eps` was given; the eps default is the data set's (DEFAULT_SEARCH_EPS).
 */
export function attacksFromOptions(
  o: AttackListValues,
  dataset: DatasetName,
  settings: Readonly<Record<string, unknown>>,
  defaultAttack = 'pgd',
): Record<string, unknown>[] | undefined {
  if (o.attack === undefined && o.eps === undefined) return undefined;
  const names = attackNames(o.attack ?? defaultAttack);
  const epsList = o.eps ?? [DEFAULT_SEARCH_EPS[dataset]];
  return names.flatMap((name) => epsList.map((eps) => ({ name, eps, ...settings })));
}
