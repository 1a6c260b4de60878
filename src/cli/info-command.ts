import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { resolveGenotype } from './genotype-resolve.js';
import {
  type ArchitectureSpec,
  BASELINE_ARCHS,
  type BaselineArch,
} from '../evaluator/architecture.js';
import { complexityOf } from '../evaluator/complexity.js';
import { formatTable } from './tables.js';
import { SchemaOptions } from './zod-options.js';

/** The network options of `info`; its defaults are the DARTS paper's CIFAR-10 network. */
const infoOptionsSchema = z.object({
  width: z.number().positive().default(1),
  channels: z.number().int().positive().default(36),
  layers: z.number().int().positive().default(20),
  classes: z.number().int().positive().default(10),
});

const networkOptions = new SchemaOptions(infoOptionsSchema.shape, {
  width: { arg: 'w', description: 'baseline width multiplier' },
  channels: { arg: 'C', description: 'initial channels C of a genotype network' },
  layers: { arg: 'n', description: 'cells of a genotype network' },
  classes: { arg: 'n', description: 'output classes' },
});

interface InfoOptions extends Record<string, unknown> {
  genotype?: string;
  arch?: string;
  input: string;
  auxiliary?: boolean;
  json?: boolean;
}

/** Parses "32x32x3" (H x W x C) or "28x28" (one channel). */
export function parseInputShape(value: string): [number, number, number] {
  const m = /^\s*(\d+)x(\d+)(?:x(\d+))?\s*$/i.exec(value);
  if (!m) throw new InputError(`--input: expected HxWxC such as 32x32x3, got '${value}'`);
  const dims = [m[1], m[2], m[3] ?? '1'].map(Number) as [number, number, number];
  if (dims.some((d) => d <= 0))
    throw new InputError(`--input: sizes must be positive, got '${value}'`);
  return dims;
}

/** Registers `robust-nas info`: exact parameter and multiply-add counts of a network. */
export function registerInfoCommand(program: Command): void {
  const command = program
    .command('info')
    .description(
      'Exact parameters and multiply-adds of a network (auxiliary head excluded; same counts as PyTorch).',
    )
    .option('--genotype <genotype>', 'published name (DARTS_V2...), genotype string or file')
    .option('--arch <arch>', `hand-crafted baseline: ${BASELINE_ARCHS.join(', ')}`);
  networkOptions.addTo(command);
  command
    .option('--input <HxWxC>', 'input shape', '32x32x3')
    .option('--auxiliary', 'with the auxiliary head (not counted, as in the DARTS paper)')
    .option('--json', 'print {"params": ..., "macs": ...}')
    .action((opts: InfoOptions) => {
      const { width, channels, layers, classes } = networkOptions.parse(opts);
      if ((opts.genotype === undefined) === (opts.arch === undefined)) {
        throw new InputError('info: give exactly one of --genotype or --arch');
      }
      let spec: ArchitectureSpec;
      if (opts.arch !== undefined) {
        if (!(BASELINE_ARCHS as readonly string[]).includes(opts.arch)) {
          throw new InputError(
            `--arch: unknown '${opts.arch}', expected ${BASELINE_ARCHS.join(', ')}`,
          );
        }
        spec = { arch: opts.arch as BaselineArch, width };
      } else {
        spec = { genotype: resolveGenotype(opts.genotype as string) };
      }
      const options = {
        channels,
        layers,
        numClasses: classes,
        inputShape: parseInputShape(opts.input),
        auxiliary: opts.auxiliary ?? false,
      };
      const { params, macs } = complexityOf(spec, options);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ params, macs })}\n`);
        return;
      }
      const name =
        'arch' in spec
          ? `${spec.arch} (width ${spec.width})`
          : `${opts.genotype} (C=${options.channels}, ${options.layers} cells)`;
      const rows: [string, string][] = [
        ['network', name],
        ['input', `${options.inputShape.join('x')}, ${options.numClasses} classes`],
        ['parameters', `${params.toLocaleString('en-US')} (${(params / 1e6).toFixed(2)}M)`],
        ['multiply-adds', `${macs.toLocaleString('en-US')} (${(macs / 1e6).toFixed(1)}M)`],
      ];
      process.stdout.write(`${formatTable(rows)}\n`);
    });
}
