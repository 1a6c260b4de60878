/**
 * Builds a Model from an architecture spec: a DARTS genotype (NetworkCIFAR) or one of the
 * hand-crafted baselines, with channels/layers/classes/input shape. Bad specs or options throw an
 * InputError naming the problem.
 */
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';
import { validateGenotype } from '../core/genotype-validate.js';
import { DenseNet121 } from './baselines/densenet.js';
import { ResNet18 } from './baselines/resnet.js';
import { Vgg16 } from './baselines/vgg.js';
import { ParameterStore } from './layers/parameter-store.js';
import { type BuildOptions, type Model, type NetworkBody, StoreModel } from './model.js';
import { NetworkCifar } from './network.js';

import { BASELINE_ARCHS, type NetworkSpec } from '../core/evaluation-task.js';

export { BASELINE_ARCHS, type BaselineArch } from '../core/evaluation-task.js';

/** What to build (the evaluation task's network: src/core/evaluation-task.ts). */
export type ArchitectureSpec = NetworkSpec;

const positiveInt = z.number().int().positive();
const buildOptionsSchema = z
  .object({
    channels: positiveInt.max(4096),
    layers: positiveInt.max(256),
    numClasses: positiveInt.max(100_000),
    inputShape: z.tuple([positiveInt.max(4096), positiveInt.max(4096), positiveInt.max(64)]),
    auxiliary: z.boolean().optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1),
    normalization: z
      .object({ mean: z.array(z.number()), std: z.array(z.number().positive()) })
      .optional(),
  })
  .superRefine((o, ctx) => {
    if (o.normalization) {
      const c = o.inputShape[2];
      if (o.normalization.mean.length !== c || o.normalization.std.length !== c) {
        ctx.addIssue({
          code: 'custom',
          message: `normalization needs ${c} means and ${c} stds (one per input channel)`,
        });
      }
    }
  });

const widthSchema = z.number().positive().max(64);

function validOptions(options: BuildOptions): BuildOptions {
  const r = buildOptionsSchema.safeParse(options);
  if (!r.success) throw new InputError(`invalid build options: ${formatIssues(r.error)}`);
  return options;
}

/** Builds the network body on `store` (shared by buildModel and the complexity counter). */
export function buildNetworkBody(
  spec: ArchitectureSpec,
  options: BuildOptions,
  store: ParameterStore,
): NetworkBody {
  validOptions(options);
  const input = options.inputShape;
  try {
    if ('genotype' in spec) {
      const genotype = validateGenotype(spec.genotype);
      return new NetworkCifar(store, genotype, {
        channels: options.channels,
        layers: options.layers,
        numClasses: options.numClasses,
        inputShape: input,
        auxiliary: options.auxiliary ?? false,
      });
    }
    if (!(BASELINE_ARCHS as readonly string[]).includes(spec.arch)) {
      throw new InputError(
        `unknown architecture '${spec.arch}': expected ${BASELINE_ARCHS.join(', ')}`,
      );
    }
    const width = spec.width ?? 1;
    if (!widthSchema.safeParse(width).success) {
      throw new InputError(`invalid width ${width}: expected a positive number up to 64`);
    }
    switch (spec.arch) {
      case 'resnet18':
        return new ResNet18(store, input, options.numClasses, width);
      case 'vgg16':
        return new Vgg16(store, input, options.numClasses, width);
      case 'densenet121':
        return new DenseNet121(store, input, options.numClasses, width);
    }
  } catch (err) {
    if (err instanceof RangeError)
      throw new InputError(`cannot build this network: ${err.message}`);
    throw err;
  }
}

export function buildModel(spec: ArchitectureSpec, options: BuildOptions): Model {
  const store = new ParameterStore(options.seed);
  const body = buildNetworkBody(spec, options, store);
  return new StoreModel(
    body,
    store,
    options.inputShape,
    options.numClasses,
    options.seed,
    options.normalization,
  );
}
