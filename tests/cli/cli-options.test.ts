/**
 * The CLI's options come from the zod schemas: defaults read from the schema, values checked by the
 * field's schema with zod's message, and the one zod-issue formatter (src/core/issues.ts).
 */
import { Command, CommanderError, InvalidArgumentError, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildProgram } from '../../src/cli.js';
import { configFromOptions, type EvaluateOptions } from '../../src/cli/evaluate-command.js';
import { buildSearchConfig } from '../../src/cli/search-command.js';
import { formatTable } from '../../src/cli/tables.js';
import {
  fractionText,
  listArgParser,
  numberText,
  SchemaOptions,
  schemaOption,
} from '../../src/cli/zod-options.js';
import { DATASETS, evalConfigSchema } from '../../src/core/evaluation.js';
import { fieldIssues, formatIssues } from '../../src/core/issues.js';
import { searchConfigObject, searchConfigSchema } from '../../src/core/search-config.js';

function parser(option: Option): (text: string) => unknown {
  const parse = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
  if (!parse) throw new Error(`${option.flags} has no argParser`);
  return (text) => parse.call(option, text, undefined);
}

function rejection(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('formatIssues (src/core/issues.ts)', () => {
  const error = searchConfigSchema.safeParse({
    population: 'many',
    generations: 0,
    seed: -1,
    evaluation: { dataset: 'imagenet' },
  }).error!;

  it('names each field by its dotted path, on one line, at most three then a count', () => {
    const text = formatIssues(error);
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toMatch(/^population: Invalid input: expected number, received string; /);
    expect(text).toMatch(/generations: Too small: expected number to be >=1/);
    expect(text).toMatch(/; seed: Too small: expected number to be >=0 \(and 1 more\)$/);
    expect(formatIssues(error, { max: Infinity })).toMatch(
      /evaluation\.dataset: Invalid option: expected one of "mnist"\|"fashion-mnist"\|"cifar10"\|"synthetic"\|"folder"\|"npz"$/,
    );
  });

  it('prefixes paths, and gives the message alone for the whole value', () => {
    expect(fieldIssues(error, 'config')[0]).toEqual({
      path: 'config.population',
      message: 'Invalid input: expected number, received string',
    });
    const whole = z.number().safeParse('x').error!;
    expect(formatIssues(whole)).toBe('Invalid input: expected number, received string');
    expect(
      formatIssues([
        { path: '', message: 'a' },
        { path: 'b', message: 'c' },
      ]),
    ).toBe('a; b: c');
  });
});

describe('options built from a zod schema', () => {
  const shape = evalConfigSchema.shape;

  it('a number field: default from the schema, checked by the schema with zod message', () => {
    const option = schemaOption('channels', shape.channels, { arg: 'n', description: 'channels' });
    expect(option.flags).toBe('--channels <n>');
    expect(option.defaultValue).toBe(evalConfigSchema.parse({}).channels);
    const parse = parser(option);
    expect(parse('16')).toBe(16);
    expect(parse(' 3e1 ')).toBe(30);
    expect(rejection(() => parse('0')).message).toBe('Too small: expected number to be >=1');
    expect(rejection(() => parse('1.5')).message).toMatch(/expected int/);
    expect(rejection(() => parse('abc')).message).toBe('Invalid input: expected a number');
    expect(rejection(() => parse('')).message).toBe('Invalid input: expected a number');
  });

  it('an enum field becomes choices, a boolean a plain flag, a flag can be renamed', () => {
    const dataset = schemaOption('dataset', shape.dataset, { description: 'data set' });
    expect(dataset.argChoices).toEqual([...DATASETS]);
    expect(dataset.defaultValue).toBe('mnist');
    const nesterov = schemaOption('nesterov', shape.nesterov, { description: 'Nesterov' });
    expect(nesterov.flags).toBe('--nesterov');
    expect(nesterov.required || nesterov.optional).toBe(false);
    const lr = schemaOption('learningRate', shape.learningRate, {
      flag: 'lr',
      description: 'learning rate',
    });
    expect(lr.flags).toBe('--lr <value>');
    expect(lr.attributeName()).toBe('lr');
    expect(schemaOption('batchSize', shape.batchSize, { description: 'b' }).flags).toBe(
      '--batch-size <value>',
    );
  });

  it("'help' mode shows the default in --help but leaves the value to the config", () => {
    const options = new SchemaOptions(
      searchConfigObject.shape,
      { population: { arg: 'n', description: 'population size' } },
      'help',
    );
    const command = new Command('x').exitOverride();
    options.addTo(command);
    expect(command.helpInformation()).toMatch(/--population <n>\s+population size \(default: 20\)/);
    command.parse([], { from: 'user' });
    expect(options.values(command.opts())).toEqual({});
    command.parse(['--population', '7'], { from: 'user' });
    expect(options.values(command.opts())).toEqual({ population: 7 });
  });

  it('a bad value stops commander with an invalid-argument error', () => {
    const options = new SchemaOptions(shape, { layers: { arg: 'n', description: 'cells' } });
    const command = options.addTo(
      new Command('x').exitOverride().configureOutput({ writeErr: () => {} }),
    );
    let caught: unknown;
    try {
      command.parse(['--layers', '65'], { from: 'user' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CommanderError);
    expect((caught as CommanderError).code).toBe('commander.invalidArgument');
    expect((caught as CommanderError).message).toBe(
      "error: option '--layers <n>' argument '65' is invalid. Too big: expected number to be <=64",
    );
  });

  it('numbers, fractions and lists as typed', () => {
    expect(numberText('-2')).toBe(-2);
    expect(() => numberText('0x10')).toThrow(InvalidArgumentError);
    expect(fractionText('8/255')).toBe(8 / 255);
    expect(fractionText('0.1')).toBe(0.1);
    expect(() => fractionText('1/0')).toThrow(/division by zero/);
    expect(listArgParser(fractionText)('0.05, 8/255,')).toEqual([0.05, 8 / 255]);
    expect(() => listArgParser(fractionText)('0.1,x')).toThrow(
      "'x': Invalid input: expected a number",
    );
  });
});

describe('the commands read their options through the schemas', () => {
  function evaluateOptions(argv: string[]): EvaluateOptions {
    const command = buildProgram().commands.find((c) => c.name() === 'evaluate')!;
    command.parseOptions(argv);
    return command.opts() as EvaluateOptions;
  }

  it('evaluate: every default is the schema default (but the scored split is test)', () => {
    const config = configFromOptions(evaluateOptions(['--genotype', 'DARTS_V2']));
    expect(config).toEqual(
      evalConfigSchema.parse({
        split: 'test',
        dataSeed: 0,
        attacks: [{ name: 'pgd', eps: 0.1 }],
      }),
    );
  });

  it('evaluate: options become the config; list bounds are checked by the schema', () => {
    const config = configFromOptions(
      evaluateOptions([
        '--dataset',
        'cifar10',
        '--lr',
        '0.05',
        '--nesterov',
        '--attack',
        'pgd,fgsm',
        '--eps',
        '8/255',
        '--steps',
        '7',
        '--seed',
        '3',
        '--split',
        'val',
      ]),
    );
    expect(config).toMatchObject({
      dataset: 'cifar10',
      learningRate: 0.05,
      nesterov: true,
      split: 'val',
      dataSeed: 3,
    });
    expect(config.attacks).toEqual([
      { name: 'pgd', eps: 8 / 255, steps: 7, restarts: 1 },
      { name: 'fgsm', eps: 8 / 255, steps: 7, restarts: 1 },
    ]);
    expect(() => configFromOptions(evaluateOptions(['--eps', '2']))).toThrow(
      'invalid options: attacks.0.eps: Too big: expected number to be <=1',
    );
    expect(() => configFromOptions(evaluateOptions(['--attack', 'cw']))).toThrow(
      /--attack: 'cw': Invalid option: expected one of/,
    );
  });

  it('search: options override the config, the schema fills the rest', async () => {
    const config = await buildSearchConfig({
      population: 4,
      evaluator: 'surrogate',
      dataset: 'fashion-mnist',
      objectives: 'clean,pgd',
    });
    expect(config).toEqual(
      searchConfigSchema.parse({
        population: 4,
        evaluator: 'surrogate',
        evaluation: { dataset: 'fashion-mnist' },
      }),
    );
    await expect(buildSearchConfig({ objectives: 'clean,speed' })).rejects.toThrow(
      /unknown objective 'speed'/,
    );
  });
});

describe('tables', () => {
  it('pads columns to the widest cell, two spaces apart, without trailing spaces', () => {
    expect(
      formatTable([
        ['ID', 'STATUS'],
        ['a-long-id', 'ok'],
        ['b', ''],
      ]),
    ).toBe('ID         STATUS\na-long-id  ok\nb');
  });
});
