/**
 * Registers our training kernels on tfjs's wasm backend and the gradients that use them.
 * Replaced or added on wasm: Conv2DBackpropFilter, Conv2DBackpropInput,
 * DepthwiseConv2dNativeBackpropInput, DepthwiseConv2dNativeBackpropFilter (missing or slow there),
 * MaxPoolGrad, a ReLU fused into a 1x1 convolution (relu-conv1x1.ts), max pooling that keeps its argmax for the backward pass (max-pool-argmax.ts), Sum and Mean over leading axes, Concat and SplitV on the last axis, an Identity that
 * shares its input's buffer instead of copying it (tfjs clones every tensor saved for the
 * backward pass), a one-pass
 * ReLU gradient, and the fused training BatchNorm (batch-norm-op.ts) with its backward kernel.
 * Gradients (all backends): dilation-aware Conv2D and DepthwiseConv2dNative, ReLU, fused BatchNorm,
 * Mean (no tensor of ones built in JavaScript).
 * Idempotent. Call after @tensorflow/tfjs-backend-wasm has registered its own kernels and before
 * the wasm backend is first initialised (kernels' setup functions run at initialisation).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Cast,
  Concat,
  Conv2D,
  DepthwiseConv2dNative,
  FusedConv2D,
  Identity,
  Slice,
  Mean,
  SplitV,
  Sum,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import {
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  batchNormTrainGradientConfig,
} from './batch-norm-op.js';
import { concatSplitConfigs } from './concat-split.js';
import {
  conv2dGradConfig,
  depthwiseConv2dGradConfig,
  markDilationAwareBackend,
} from './conv-gradients.js';
import { convForwardConfigs } from './conv-forward.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseConv2dBackpropFilterConfig } from './depthwise-conv2d-backprop-filter.js';
import { depthwiseConv2dBackpropInputConfig } from './depthwise-conv2d-backprop-input.js';
import { castShareConfig } from './cast-share.js';
import { identityShareConfig } from './identity-share.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { MAX_POOL_ARGMAX_KERNELS } from './max-pool-argmax.js';
import { RELU_CONV1X1_KERNELS } from './relu-conv1x1.js';
import { meanGradConfig } from './mean-gradient.js';
import { reductionConfigs } from './reductions.js';
import { reluGradConfig, reluGradientConfig } from './relu-gradient.js';
import { sgdUpdateConfig } from './sgd-update.js';
import { sliceHeapConfig } from './slice-heap.js';

/** Our stand-alone kernels (the wrappers of tfjs-backend-wasm's kernels are built at registration). */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseConv2dBackpropInputConfig,
  depthwiseConv2dBackpropFilterConfig,
  maxPoolGradConfig,
  reluGradConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  sgdUpdateConfig,
  ...MAX_POOL_ARGMAX_KERNELS,
  ...RELU_CONV1X1_KERNELS,
];

/**
 * Env ROBUST_NAS_XNNPACK_CONV=1 keeps tfjs-backend-wasm's XNNPACK forward convolutions instead of
 * ours (conv-forward.ts): for A/B benchmarks. Unset, empty or 0: ours.
 */
export const XNNPACK_CONV_ENV_VAR = 'ROBUST_NAS_XNNPACK_CONV';

function xnnpackConvRequested(): boolean {
  const v = process.env[XNNPACK_CONV_ENV_VAR];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new Error(`${XNNPACK_CONV_ENV_VAR} must be 0 or 1, got ${JSON.stringify(v)}`);
}

let gradientsRegistered = false;
let wasmRegistered = false;

/** Replaces tfjs-core's conv, depthwise-conv and ReLU gradients (all backends). */
export function registerTrainingGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient(conv2dGradConfig);
  tf.registerGradient(depthwiseConv2dGradConfig);
  tf.registerGradient(reluGradientConfig);
  tf.registerGradient(batchNormTrainGradientConfig);
  tf.registerGradient(meanGradConfig);
}

function replaceKernel(config: KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

function original(name: string): KernelConfig {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`tfjs-backend-wasm has no ${name} kernel to wrap`);
  return config;
}

/** Registers our wasm kernels, replacing any tfjs-backend-wasm has for them. */
export function registerWasmTrainingKernels(): void {
  registerTrainingGradients();
  if (wasmRegistered) return;
  wasmRegistered = true;
  for (const config of WASM_TRAINING_KERNELS) replaceKernel(config);
  const wrappers = [
    ...reductionConfigs(original(Sum), original(Mean)),
    ...concatSplitConfigs(original(Concat), original(SplitV)),
    identityShareConfig(original(Identity)),
    castShareConfig(original(Cast)),
    sliceHeapConfig(original(Slice)),
    ...(xnnpackConvRequested()
      ? []
      : convForwardConfigs(
          original(Conv2D),
          original(FusedConv2D),
          original(DepthwiseConv2dNative),
        )),
  ];
  for (const config of wrappers) replaceKernel(config);
  markDilationAwareBackend('wasm');
}
