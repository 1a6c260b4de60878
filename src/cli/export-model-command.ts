/**
 * `robust-nas export-model`: a network as a PyTorch module (model.py), its trained weights
 * (model.safetensors) when there are any, and a README, in --out DIR. Either a candidate of a run
 * (`export-model <runId> <hash>`: the run's network and the weights it kept) or a network given
 * as `info` takes it (--genotype or --arch with --channels/--layers/--input/--classes), optionally
 * with --dataset (input shape, classes and normalisation of a data set) and --weights (a file
 * written by `evaluate --save-weights`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { DatasetName } from '../core/evaluation.js';
import { DATASET_SPECS } from '../evaluator/datasets/registry.js';
import { InputError } from '../core/errors.js';
import {
  type ArchitectureSpec,
  BASELINE_ARCHS,
  type BaselineArch,
} from '../evaluator/architecture.js';
import { EXPORT_FORMATS, exportPytorch, type ExportRequest } from '../export/export-model.js';
import { datasetNetworkOptions, runCandidateExport } from '../export/from-run.js';
import type { ExportNetwork } from '../export/state-dict.js';
import { resolveGenotype } from './genotype-resolve.js';
import { parseInputShape } from './info-command.js';
import { runsDirOf, runsDirOption, withInputErrors } from './runs-access.js';
import { SchemaOptions } from './zod-options.js';

const networkSchema = z.object({
  width: z.number().positive().max(64).optional(),
  channels: z.number().int().positive().max(4096).optional(),
  layers: z.number().int().positive().max(256).optional(),
  classes: z.number().int().positive().max(100_000).optional(),
});

const networkOptions = new SchemaOptions(networkSchema.shape, {
  width: { arg: 'w', description: 'baseline width multiplier (default 1)' },
  channels: { arg: 'C', description: 'initial channels C of a genotype network (default 36)' },
  layers: { arg: 'n', description: 'cells of a genotype network (default 20)' },
  classes: { arg: 'n', description: "output classes (default: the data set's, else 10)" },
});

interface ExportModelOptions extends Record<string, unknown> {
  format: string;
  out: string;
  genotype?: string;
  arch?: string;
  input?: string;
  dataset?: DatasetName;
  auxiliary?: boolean;
  weights?: string;
  runsDir?: string;
  json?: boolean;
}

const NETWORK_FLAGS = [
  'genotype',
  'arch',
  'width',
  'channels',
  'layers',
  'classes',
  'input',
  'dataset',
  'auxiliary',
  'weights',
] as const;

/** The export request of a network given on the command line (no run). */
async function givenNetworkExport(
  opts: ExportModelOptions,
): Promise<Omit<ExportRequest, 'outDir'>> {
  if ((opts.genotype === undefined) === (opts.arch === undefined)) {
    throw new InputError(
      'export-model: give a run and a candidate hash, or exactly one of --genotype or --arch',
    );
  }
  const { width, channels, layers, classes } = networkOptions.parse(opts);
  let spec: ArchitectureSpec;
  if (opts.arch !== undefined) {
    const arch = opts.arch.trim().toLowerCase();
    if (!(BASELINE_ARCHS as readonly string[]).includes(arch)) {
      throw new InputError(`--arch: unknown '${opts.arch}', expected ${BASELINE_ARCHS.join(', ')}`);
    }
    spec = { arch: arch as BaselineArch, width: width ?? 1 };
  } else {
    spec = { genotype: resolveGenotype(opts.genotype as string) };
  }
  const data = opts.dataset !== undefined ? datasetNetworkOptions(opts.dataset) : undefined;
  const inputShape =
    opts.input !== undefined ? parseInputShape(opts.input) : (data?.inputShape ?? [32, 32, 3]);
  if (data && inputShape[2] !== data.inputShape[2]) {
    throw new InputError(
      `--input ${opts.input} has ${inputShape[2]} channel(s), data set ${opts.dataset} has ${data.inputShape[2]}`,
    );
  }
  const network: ExportNetwork = {
    spec,
    options: {
      channels: channels ?? 36,
      layers: layers ?? 20,
      numClasses: classes ?? data?.numClasses ?? 10,
      inputShape,
      auxiliary: opts.auxiliary ?? false,
      ...(data ? { normalization: data.normalization } : {}),
    },
  };
  let weights: ExportRequest['weights'];
  if (opts.weights !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(opts.weights);
    } catch (err) {
      throw new InputError(`--weights: cannot read ${opts.weights}: ${(err as Error).message}`);
    }
    weights = { bytes, source: opts.weights };
  } else {
    weights = { none: 'no --weights file was given' };
  }
  const name =
    'arch' in spec
      ? `${spec.arch} (width ${spec.width ?? 1})`
      : `DARTS genotype network ${opts.genotype?.length && opts.genotype.length <= 40 ? opts.genotype : ''}`.trim();
  return {
    network,
    title: name,
    weights,
    provenance: {
      network:
        'arch' in spec
          ? `${spec.arch}, width ${spec.width ?? 1}`
          : `${network.options.channels} channels, ${network.options.layers} cells${network.options.auxiliary ? ', auxiliary head' : ''}`,
      ...(opts.dataset ? { dataset: opts.dataset } : {}),
      ...(opts.weights ? { weights: resolve(opts.weights) } : {}),
    },
  };
}

/** Registers `robust-nas export-model`. */
export function registerExportModelCommand(program: Command): void {
  const command = program
    .command('export-model [runId] [hash]')
    .description(
      "A network as a PyTorch module (model.py), its weights (model.safetensors: a run's candidate, when the run kept them) and a README, in --out DIR.",
    )
    .addOption(
      new Option('--format <format>', 'export format').choices(EXPORT_FORMATS).default('pytorch'),
    )
    .requiredOption('--out <dir>', 'folder to write model.py, model.safetensors and README.md into')
    .option(
      '--genotype <genotype>',
      'without a run: published name (DARTS_V2...), genotype string or file',
    )
    .option('--arch <arch>', `without a run: hand-crafted baseline: ${BASELINE_ARCHS.join(', ')}`);
  networkOptions.addTo(command);
  command
    .option('--input <HxWxC>', "input shape (default: the data set's, else 32x32x3)")
    .addOption(
      new Option(
        '--dataset <name>',
        "input shape, classes and normalisation (inside the model) of this data set's networks",
      ).choices(Object.keys(DATASET_SPECS)),
    )
    .option('--auxiliary', "with DARTS's auxiliary head (training only; not counted)")
    .option(
      '--weights <file>',
      'without a run: weights of this network, from `evaluate --save-weights`',
    )
    .addOption(runsDirOption())
    .option('--json', 'print {"files", "params", "tensors", "noWeights"} as JSON')
    .action(
      async (runId: string | undefined, hash: string | undefined, opts: ExportModelOptions) => {
        let request: Omit<ExportRequest, 'outDir'>;
        if (runId !== undefined) {
          if (hash === undefined) {
            throw new InputError('export-model: give the candidate hash after the run id');
          }
          const given = NETWORK_FLAGS.filter((f) => opts[f] !== undefined).map(
            (f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
          );
          if (given.length > 0) {
            throw new InputError(
              `export-model: ${given.join(', ')} describe a network without a run; a run's candidate uses the run's network`,
            );
          }
          request = await withInputErrors(() => runCandidateExport(runsDirOf(opts), runId, hash));
        } else {
          request = await givenNetworkExport(opts);
        }
        const result = await exportPytorch({ ...request, outDir: opts.out });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        const lines = [
          `robust-nas: exported ${request.title} to ${opts.out} (PyTorch, ${result.params.toLocaleString('en-US')} parameters)`,
          ...result.files.map((f) => `  ${f}`),
          result.noWeights !== undefined
            ? `robust-nas: no weights exported: ${result.noWeights}`
            : `robust-nas: weights: ${result.tensors} tensors in model.safetensors`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );
}
