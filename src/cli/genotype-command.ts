/**
 * `robust-nas genotype ...`: list the published cells, show a genotype in either notation, sample
 * random genotypes from the DARTS space, and mutate a genotype.
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { formatGenotype, GENOTYPE_FORMATS, type GenotypeFormat } from '../core/genotype-format.js';
import { resolveGenotype } from './genotype-resolve.js';
import { mutateGenotype } from '../search/mutation.js';
import { nodeCount } from '../core/genotype.js';
import { PUBLISHED_GENOTYPES, PUBLISHED_GENOTYPE_NAMES } from '../core/published-genotypes.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';
import { searchConfigObject } from '../core/search-config.js';
import { schemaOption } from './zod-options.js';

/** The numeric options of `genotype sample` and `genotype mutate`. */
const genotypeOptionsSchema = z.object({
  seed: z.number().int().min(0),
  count: z.number().int().min(1).max(100_000).default(1),
  /** Intermediate nodes per cell: the search config's field (bounds and default). */
  nodes: searchConfigObject.shape.nodes,
});
const { shape } = genotypeOptionsSchema;

function formatOption(): Option {
  return new Option('--format <format>', 'output notation')
    .choices(GENOTYPE_FORMATS)
    .default('python');
}

function seedOption(): Option {
  return schemaOption('seed', shape.seed, {
    arg: 'seed',
    description: 'random seed (a non-negative integer)',
  }).makeOptionMandatory();
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function registerGenotypeCommands(program: Command): void {
  const genotype = program
    .command('genotype')
    .description('DARTS genotypes: list the published cells, show, sample and mutate genotypes');

  genotype
    .command('list')
    .description('list the published genotypes (name, nodes per cell, source)')
    .action(() => {
      const names = PUBLISHED_GENOTYPE_NAMES;
      const width = Math.max(...names.map((n) => n.length));
      for (const name of names) {
        const { genotype: g, source } = PUBLISHED_GENOTYPES[name]!;
        const nodes = `${nodeCount(g.normal)} nodes`;
        print(`${name.padEnd(width)}  ${nodes}  ${source}`);
      }
    });

  genotype
    .command('show')
    .description('print a genotype, validated, in Python (DARTS) or JSON notation')
    .argument(
      '<genotype>',
      'a published name (e.g. DARTS_V2), a genotype string (Python or JSON) or a file holding one',
    )
    .addOption(formatOption())
    .action((arg: string, opts: { format: GenotypeFormat }) => {
      print(formatGenotype(resolveGenotype(arg), opts.format));
    });

  genotype
    .command('sample')
    .description(
      'sample genotypes uniformly from the DARTS space (two distinct inputs per node, no "none" op), one per line',
    )
    .addOption(seedOption())
    .addOption(schemaOption('count', shape.count, { arg: 'n', description: 'how many genotypes' }))
    .addOption(
      schemaOption('nodes', shape.nodes, { arg: 'n', description: 'intermediate nodes per cell' }),
    )
    .addOption(formatOption())
    .action((opts: { seed: number; count: number; nodes: number; format: GenotypeFormat }) => {
      const rng = Rng.fromSeed(opts.seed);
      const lines: string[] = [];
      for (let i = 0; i < opts.count; i++) {
        lines.push(formatGenotype(sampleGenotype(rng, { nodes: opts.nodes }), opts.format));
      }
      print(lines.join('\n'));
    });

  genotype
    .command('mutate')
    .description('print a mutated copy of a genotype (an op changed or an input rewired)')
    .argument(
      '<genotype>',
      'a published name (e.g. DARTS_V2), a genotype string (Python or JSON) or a file holding one',
    )
    .addOption(seedOption())
    .addOption(formatOption())
    .action((arg: string, opts: { seed: number; format: GenotypeFormat }) => {
      const parent = resolveGenotype(arg);
      print(formatGenotype(mutateGenotype(parent, Rng.fromSeed(opts.seed)), opts.format));
    });
}
