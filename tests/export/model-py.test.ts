/** model.py's text: the modules its network needs, its configuration as Python literals. */
import { describe, expect, it } from 'vitest';
import { resolveGenotype } from '../../src/cli/genotype-resolve.js';
import { modelPy, pythonLiteral } from '../../src/export/model-py.js';
import type { ExportNetwork } from '../../src/export/state-dict.js';

const darts: ExportNetwork = {
  spec: { genotype: resolveGenotype('DARTS_V2') },
  options: {
    channels: 16,
    layers: 8,
    numClasses: 10,
    inputShape: [32, 32, 3],
    auxiliary: true,
    normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  },
};

describe('model.py', () => {
  it('a genotype network: DARTS cell modules, the genotype, the configuration, build_model()', () => {
    const text = modelPy(darts, { title: 'Candidate "x" of run r', weights: true, params: 123 });
    for (const part of [
      'import torch\n',
      'import torch.nn as nn\n',
      'class Normalize(nn.Module):',
      'def load_safetensors(path):',
      'class FactorizedReduce(nn.Module):',
      'class ReLUConvBN(nn.Module):',
      'def sep_conv(c, kernel, stride, padding):',
      'def dil_conv(c, kernel, stride, padding, dilation):',
      'class Cell(nn.Module):',
      'class AuxiliaryHead(nn.Module):',
      'class NetworkCIFAR(nn.Module):',
      'def build_model(auxiliary=None):',
      'def load_weights(model, path=WEIGHTS, strict=True):',
      'def count_parameters(model):',
      '"normal": [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],',
      '"reduce_concat": [2, 3, 4, 5],',
      'CONFIG = {"channels": 16, "layers": 8, "num_classes": 10, "input_shape": [32, 32, 3], "mean": [0.4914, 0.4822, 0.4465], "std": [0.247, 0.2435, 0.2616], "auxiliary": True}',
      'Input: float32 images [N, 3, 32, 32] (NCHW',
      'pixel values in [0, 1]',
      'Parameters: 123 (auxiliary head excluded',
      'count_include_pad=False',
    ]) {
      expect(text, part).toContain(part);
    }
    // The title cannot end the docstring early.
    expect(text.startsWith('"""Candidate \\"x\\" of run r\n')).toBe(true);
    expect(text).not.toContain('class ResNet18');
    // Python, not JSON: no true/false/null tokens.
    expect(text).not.toMatch(/\b(true|false|null)\b/);
  });

  it('a baseline: its own classes only, no normalisation when none is given', () => {
    const text = modelPy(
      {
        spec: { arch: 'resnet18', width: 0.5 },
        options: { channels: 1, layers: 1, numClasses: 100, inputShape: [28, 28, 1] },
      },
      { title: 'resnet18', weights: false, params: 9 },
    );
    expect(text).toContain('class ResNet18(nn.Module):');
    expect(text).toContain('class BasicBlock(nn.Module):');
    expect(text).toContain('def scaled_channels(base, width):');
    expect(text).toContain(
      'CONFIG = {"arch": "resnet18", "width": 0.5, "num_classes": 100, "input_shape": [28, 28, 1], "mean": None, "std": None}',
    );
    expect(text).toContain('No normalisation');
    expect(text).toContain('none exported');
    expect(text).not.toContain('class Cell');
    expect(text).not.toContain('class Vgg16');
    for (const [arch, cls] of [
      ['vgg16', 'class Vgg16(nn.Module):'],
      ['densenet121', 'class DenseNet121(nn.Module):'],
    ] as const) {
      const t = modelPy(
        {
          spec: { arch },
          options: { channels: 1, layers: 1, numClasses: 10, inputShape: [32, 32, 3] },
        },
        { title: arch, weights: false, params: 1 },
      );
      expect(t).toContain(cls);
      expect(t).toContain('"width": 1,');
    }
  });

  it('pythonLiteral writes Python values', () => {
    expect(pythonLiteral({ a: [1, 2.5, -3e-7], b: true, c: null, d: 'q"s' })).toBe(
      '{"a": [1, 2.5, -3e-7], "b": True, "c": None, "d": "q\\"s"}',
    );
    expect(() => pythonLiteral(Number.NaN)).toThrow(/no Python literal/);
  });
});
