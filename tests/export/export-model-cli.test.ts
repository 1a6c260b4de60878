/**
 * `robust-nas export-model` end to end (no Python): a candidate of a surrogate run (no weights:
 * said clearly, model only), the front of a tiny real run (weights as safetensors with model.py's
 * keys), and bad input: one line, exit 2, nothing written.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatGenotype } from '../../src/core/genotype-format.js';
import { decodeSafetensors } from '../../src/export/safetensors.js';
import { datasetNetworkOptions } from '../../src/export/from-run.js';
import { networkVariables } from '../../src/export/state-dict.js';
import { RunCatalogue as RunCatalogue } from '../../src/store/run-catalogue.js';
import { weightsFile } from '../../src/store/run-weights.js';
import { runCommand, type CliResult } from '../helpers/cli.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-export-cli-'));
const runs = join(root, 'runs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function oneLine(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

/** A copy of weights the tiny run kept (a network of 2 channels, 1 cell, 16x16x1). */
const tinyWeights = join(root, 'tiny-copy.weights');

beforeAll(async () => {
  const sur = runCommand([
    'search',
    '--evaluator',
    'surrogate',
    '--population',
    '4',
    '--generations',
    '1',
    '--seed',
    '2',
    '--runs-dir',
    runs,
    '--run-id',
    'sur',
  ]);
  expect(sur.code, sur.stderr).toBe(0);
  const config = join(root, 'tiny.json');
  writeFileSync(
    config,
    JSON.stringify({ population: 2, generations: 1, seed: 5, evaluation: TINY_EVALUATION }),
  );
  const real = runCommand(['search', '--config', config, '--runs-dir', runs, '--run-id', 'tiny']);
  expect(real.code, real.stderr).toBe(0);
  const tiny = await new RunCatalogue(runs).read('tiny');
  copyFileSync(
    weightsFile(new RunCatalogue(runs).runDir('tiny'), tiny.generations.at(-1)!.front[0]!),
    tinyWeights,
  );
});

describe('export-model <runId> <hash>', () => {
  it("writes a real run's front member: model.py, model.safetensors with model.py's keys, README", async () => {
    const run = await new RunCatalogue(runs).read('tiny');
    const front = run.generations.at(-1)!.front;
    const member = run.evaluations.find((e) => e.index === front[0])!;
    const out = join(root, 'front');
    // A unique prefix of the hash is enough.
    const r = runCommand([
      'export-model',
      'tiny',
      member.hash.slice(0, 12),
      '--format',
      'pytorch',
      '--out',
      out,
      '--runs-dir',
      runs,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { files: string[]; params: number; tensors: number };
    expect(result.files.map((f) => f.slice(out.length + 1))).toEqual([
      'model.py',
      'model.safetensors',
      'genotype.txt',
      'README.md',
    ]);
    expect(readFileSync(join(out, 'genotype.txt'), 'utf8')).toBe(
      `${formatGenotype(member.genotype, 'python')}\n`,
    );
    const network = {
      spec: { genotype: member.genotype },
      options: {
        channels: TINY_EVALUATION.channels,
        layers: TINY_EVALUATION.layers,
        auxiliary: false,
        ...datasetNetworkOptions('synthetic'),
      },
    };
    const { variables, params } = networkVariables(network);
    expect(result.params).toBe(params);
    const { metadata, tensors } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(metadata.run).toBe('tiny');
    expect(metadata.hash).toBe(member.hash);
    expect(metadata.evaluation).toBe(String(member.index));
    const counters = variables
      .filter((v) => v.name.endsWith('.running_var'))
      .map((v) => v.name.replace(/running_var$/, 'num_batches_tracked'));
    expect(tensors.map((t) => t.name).sort()).toEqual(
      [...variables.map((v) => v.name), ...counters].sort(),
    );
    expect(result.tensors).toBe(tensors.length);
    const model = readFileSync(join(out, 'model.py'), 'utf8');
    expect(model).toContain('class NetworkCIFAR(nn.Module):');
    expect(model).toContain('"mean": [0.5], "std": [0.25]');
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toContain(`- hash: ${member.hash}`);
    expect(readme).toContain('## Load');
    expect(readme).toContain('## Evaluate');
    expect(readme).toContain('## Continue training at full scale');
    expect(readme).toContain('[N, 1, 16, 16]');
  });

  it('says clearly when the run kept no weights, and writes the model only', async () => {
    const run = await new RunCatalogue(runs).read('sur');
    const hash = run.evaluations[0]!.hash;
    const out = join(root, 'surrogate');
    const r = runCommand(['export-model', 'sur', hash, '--out', out, '--runs-dir', runs]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'robust-nas: no weights exported: run sur uses the surrogate evaluator, which trains no networks',
    );
    expect(existsSync(join(out, 'model.py'))).toBe(true);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain(
      '- No weights: run sur uses the surrogate evaluator',
    );

    // A front member of the real run whose weights file has gone.
    const tiny = await new RunCatalogue(runs).read('tiny');
    const index = tiny.generations.at(-1)!.front.at(-1)!;
    const member = tiny.evaluations.find((e) => e.index === index)!;
    rmSync(weightsFile(new RunCatalogue(runs).runDir('tiny'), index));
    const gone = runCommand([
      'export-model',
      'tiny',
      member.hash,
      '--out',
      join(root, 'gone'),
      '--runs-dir',
      runs,
    ]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain(
      `no weights exported: run tiny keeps the trained weights of its current Pareto front only, and candidate ${member.hash} is on it but its weights file is missing`,
    );
  });

  it('refuses an unknown run, a hash not in the run, a bad hash: one line, exit 2', () => {
    const out = join(root, 'never');
    oneLine(
      runCommand(['export-model', 'nope', 'abcd', '--out', out, '--runs-dir', runs]),
      /^robust-nas: error: unknown run: nope\b/,
    );
    oneLine(
      runCommand(['export-model', 'sur', 'ffffffffffff', '--out', out, '--runs-dir', runs]),
      /^robust-nas: error: run sur has no candidate with hash 'ffffffffffff'$/,
    );
    oneLine(
      runCommand(['export-model', 'sur', 'zz!', '--out', out, '--runs-dir', runs]),
      /hash 'zz!': expected a genotype hash \(hex, at least 4 characters\)/,
    );
    oneLine(
      runCommand(['export-model', 'sur', '--out', out, '--runs-dir', runs]),
      /give the candidate hash after the run id/,
    );
    oneLine(
      runCommand([
        'export-model',
        'sur',
        'abcd',
        '--genotype',
        'DARTS_V2',
        '--out',
        out,
        '--runs-dir',
        runs,
      ]),
      /--genotype describe a network without a run/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('export-model --out', () => {
  it('refuses a file, and a folder whose earlier weights a model-only export would leave behind', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    oneLine(
      runCommand(['export-model', '--arch', 'resnet18', '--width', '0.125', '--out', file]),
      /--out .*a-file is not a folder/,
    );
    // The tiny run's front member, exported without the run from its weights file...
    const run = await new RunCatalogue(runs).read('tiny');
    const member = run.evaluations.find((e) => e.index === run.generations.at(-1)!.front[0])!;
    const dir = join(root, 'stale');
    const network = ['--genotype', formatGenotype(member.genotype, 'python'), '--channels', '2'];
    const withWeights = runCommand([
      'export-model',
      ...network,
      '--layers',
      '1',
      '--dataset',
      'synthetic',
      '--weights',
      tinyWeights,
      '--out',
      dir,
    ]);
    expect(withWeights.code, withWeights.stderr).toBe(0);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
    // ...then a model-only export into the same folder is refused, the folder left as it was.
    const before = readFileSync(join(dir, 'model.py'), 'utf8');
    oneLine(
      runCommand(['export-model', ...network, '--layers', '2', '--out', dir]),
      /--out .*stale holds a model\.safetensors of an earlier export, and this export has no weights/,
    );
    expect(readFileSync(join(dir, 'model.py'), 'utf8')).toBe(before);
  });
});

describe('export-model without a run', () => {
  it('exports a published genotype at the size asked for (model only, as info counts it)', () => {
    const out = join(root, 'darts-v2');
    const r = runCommand([
      'export-model',
      '--genotype',
      'DARTS_V2',
      '--channels',
      '4',
      '--layers',
      '5',
      '--dataset',
      'cifar10',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = runCommand([
      'info',
      '--genotype',
      'DARTS_V2',
      '--channels',
      '4',
      '--layers',
      '5',
      '--json',
    ]);
    const { params } = JSON.parse(info.stdout) as { params: number };
    expect(r.stdout).toContain(`(PyTorch, ${params.toLocaleString('en-US')} parameters)`);
    expect(r.stdout).toContain('no weights exported: no --weights file was given');
    expect(readFileSync(join(out, 'model.py'), 'utf8')).toContain(
      '"mean": [0.4914, 0.4822, 0.4465], "std": [0.247, 0.2435, 0.2616]',
    );
  });

  it('refuses a bad genotype, an unknown arch, a missing or mismatched weights file', () => {
    const out = join(root, 'never2');
    oneLine(
      runCommand(['export-model', '--out', out]),
      /give a run and a candidate hash, or exactly one of --genotype or --arch/,
    );
    oneLine(
      runCommand([
        'export-model',
        '--genotype',
        "Genotype(normal=[('bogus_op', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
        '--out',
        out,
      ]),
      /^robust-nas: error: .*bogus_op/,
    );
    oneLine(
      runCommand(['export-model', '--arch', 'resnet50', '--out', out]),
      /--arch: unknown 'resnet50'/,
    );
    oneLine(
      runCommand([
        'export-model',
        '--arch',
        'resnet18',
        '--weights',
        join(root, 'missing.weights'),
        '--out',
        out,
      ]),
      /--weights: cannot read .*missing\.weights/,
    );
    oneLine(
      runCommand([
        'export-model',
        '--genotype',
        'DARTS_V2',
        '--dataset',
        'mnist',
        '--input',
        '32x32x3',
        '--out',
        out,
      ]),
      /--input 32x32x3 has 3 channel\(s\), data set mnist has 1/,
    );
    // Weights of the tiny run's network given for a larger one.
    const mismatch = runCommand([
      'export-model',
      '--genotype',
      'DARTS_V2',
      '--channels',
      '4',
      '--layers',
      '5',
      '--dataset',
      'synthetic',
      '--weights',
      tinyWeights,
      '--out',
      out,
    ]);
    oneLine(
      mismatch,
      /holds \d+ tensors, this network has \d+|tensor \d+ is '.*', this network expects/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
