/** Helpers shared by scripts/kernel-bench.ts and scripts/train-profile.ts. */
import type * as tf from '@tensorflow/tfjs-core';

type KernelRecord = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

/** The value after `--name` on the command line, else `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** tf.profile's kernel calls grouped by `key` (default: kernel name), most time first, and their total time. */
export function kernelTimes(
  kernels: readonly KernelRecord[],
  key: (k: KernelRecord) => string = (k) => k.name,
): { rows: [string, { ms: number; calls: number }][]; total: number } {
  const groups = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const e = groups.get(key(k)) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.calls++;
    groups.set(key(k), e);
  }
  const rows = [...groups.entries()].sort((a, b) => b[1].ms - a[1].ms);
  return { rows, total: rows.reduce((s, [, e]) => s + e.ms, 0) };
}

/**
 * The category of a tfjs kernel call, named as bench/torch_profile.py names PyTorch's ops so the
 * two profiles line up. Convolutions are told apart by their filter's shape ([KH,KW,Ci,Co]; for
 * Conv2DBackpropFilter the output's).
 */
export function kernelCategory(k: KernelRecord): string {
  const filterShape = (s: number[] | undefined) =>
    s && s.length === 4 && s[0] === 1 && s[1] === 1 ? '1x1' : 'regular';
  switch (k.name) {
    case 'Conv2D':
    case 'FusedConv2D':
      return `conv ${filterShape(k.inputShapes[1])} forward`;
    case 'Conv2DBackpropInput':
      return `conv ${filterShape(k.inputShapes[1])} backward input`;
    case 'Conv2DBackpropFilter':
      return `conv ${filterShape(k.outputShapes[0])} backward filter`;
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D':
      return 'conv depthwise forward';
    case 'DepthwiseConv2dNativeBackpropInput':
      return 'conv depthwise backward input';
    case 'DepthwiseConv2dNativeBackpropFilter':
      return 'conv depthwise backward filter';
    case 'RobustNasBatchNormTrain':
    case 'FusedBatchNorm':
      return 'batchnorm forward';
    case 'RobustNasBatchNormTrainGrad':
      return 'batchnorm backward';
    case 'Relu':
      return 'relu forward';
    case 'ReluGradRobustNas':
      return 'relu backward';
    case 'MaxPool':
    case 'AvgPool':
      return 'pooling forward';
    case 'MaxPoolGrad':
    case 'AvgPoolGrad':
      return 'pooling backward';
    case 'Add':
    case 'AddN':
      return 'add (cell node sums, gradient sums)';
    case 'RobustNasSgdUpdate':
      return 'sgd update + grad accumulation';
    case 'Concat':
    case 'SplitV':
    case 'Slice':
    case 'PadV2':
    case 'Identity':
    case 'Reshape':
    case 'Cast':
    case 'StridedSlice':
      return 'memory: concat, slice, pad, copies, allocation';
    default:
      return 'other ops (loss, classifier, pgd arithmetic)';
  }
}
