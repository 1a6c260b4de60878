import { describe, expect, it } from 'vitest';
import { complexityOf } from '../../src/evaluator/complexity.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { runCommand } from '../helpers/cli.js';

/*
 * Reference figures measured in PyTorch 1.13 (Debian python3-torch, /usr/bin/python3):
 * - genotype networks: /work/shared/bench/torch_reference.py's `Net` (DARTS NetworkCIFAR, no
 *   auxiliary head), params = sum(p.numel() for p in net.parameters());
 * - baselines: a throwaway script with kuangliu/pytorch-cifar's ResNet18, VGG('VGG16') and
 *   DenseNet121 (channels / growth scaled by the width, rounded);
 * - MACs: forward hooks summing, for every nn.Conv2d, out.numel()/batch * in/groups * kh * kw and,
 *   for every nn.Linear, in * out, on one image of the given shape.
 */
const GENOTYPE_CASES: [string, number, number, number, [number, number, number], number, number][] =
  [
    // name, C, layers, classes, input, params, macs
    ['DARTS_V2', 36, 20, 10, [32, 32, 3], 3_349_342, 528_359_040],
    ['DARTS_V2', 16, 8, 10, [32, 32, 3], 246_106, 43_444_736],
    ['DARTS_V2', 8, 5, 10, [28, 28, 1], 36_586, 5_321_504],
    ['PDARTS', 36, 20, 10, [32, 32, 3], 3_433_798, 532_174_464],
    ['PDARTS', 16, 8, 10, [32, 32, 3], 292_026, 48_138_752],
    ['DARTS_V1', 36, 20, 10, [32, 32, 3], 3_169_414, 500_987_520],
  ];
const GENOTYPE_PARAMS_ONLY: [string, number, number, number, number][] = [
  ['DARTS_V1', 24, 14, 100, 1_009_996],
];
const BASELINE_CASES: ['resnet18' | 'vgg16' | 'densenet121', number, number, number][] = [
  ['resnet18', 1, 11_173_962, 555_422_720],
  ['resnet18', 0.5, 2_797_610, 139_299_328],
  ['resnet18', 0.25, 701_466, 35_046_656],
  ['vgg16', 1, 14_728_266, 313_201_664],
  ['vgg16', 0.5, 3_686_954, 78_744_064],
  ['vgg16', 0.25, 924_186, 19_907_840],
  ['densenet121', 1, 6_956_298, 888_350_720],
  ['densenet121', 0.5, 1_762_954, 222_532_608],
  ['densenet121', 0.25, 452_682, 55_855_616],
];

describe('exact complexity (equal to PyTorch)', () => {
  it.each(GENOTYPE_CASES)(
    '%s C=%i, %i cells: params and MACs',
    (name, C, layers, k, input, params, macs) => {
      const c = complexityOf(
        { genotype: getPublishedGenotype(name) },
        { channels: C, layers, numClasses: k, inputShape: input },
      );
      expect(c).toEqual({ params, macs });
    },
  );

  it.each(GENOTYPE_PARAMS_ONLY)(
    '%s C=%i, %i cells, %i classes: params',
    (name, C, layers, k, params) => {
      const c = complexityOf(
        { genotype: getPublishedGenotype(name) },
        { channels: C, layers, numClasses: k, inputShape: [32, 32, 3] },
      );
      expect(c.params).toBe(params);
    },
  );

  it.each(BASELINE_CASES)('%s width %s', (arch, width, params, macs) => {
    const c = complexityOf(
      { arch, width },
      { channels: 1, layers: 1, numClasses: 10, inputShape: [32, 32, 3] },
    );
    expect(c).toEqual({ params, macs });
  });

  it('excludes the auxiliary head from the counts', () => {
    const opts = {
      channels: 36,
      layers: 20,
      numClasses: 10,
      inputShape: [32, 32, 3] as [number, number, number],
    };
    const g = { genotype: getPublishedGenotype('DARTS_V2') };
    expect(complexityOf(g, { ...opts, auxiliary: true })).toEqual(complexityOf(g, opts));
  });
});

describe('robust-nas info', () => {
  it('prints the DARTS paper figure as JSON', () => {
    const r = runCommand([
      'info',
      '--genotype',
      'DARTS_V2',
      '--channels',
      '36',
      '--layers',
      '20',
      '--classes',
      '10',
      '--input',
      '32x32x3',
      '--auxiliary',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ params: 3_349_342, macs: 528_359_040 });
  });

  it('counts a baseline and prints a table without --json', () => {
    const json = runCommand(['info', '--arch', 'vgg16', '--width', '0.5', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ params: 3_686_954, macs: 78_744_064 });
    const table = runCommand(['info', '--arch', 'resnet18']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/parameters\s+11,173,962/);
  });

  it('rejects bad arguments with exit code 2 and one line', () => {
    const r = runCommand(['info', '--arch', 'alexnet']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/alexnet/);
    expect(runCommand(['info', '--genotype', 'DARTS_V2', '--input', '32by32']).code).toBe(2);
  });
});
