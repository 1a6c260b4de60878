/**
 * The Model contract every network (DARTS cell networks and the baselines) implements, and the one
 * class that implements it on top of a network body built with a ParameterStore.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../core/rng.js';
import './register-gradients.js';
import type { ForwardContext } from './layers/layer.js';
import type { ParameterStore } from './layers/parameter-store.js';
import { reluCache } from './layers/relu.js';

export interface ApplyOptions {
  training: boolean;
  dropPathProb?: number;
  /** Optional (addition): training only, run the auxiliary head if the model has one (default true). */
  auxiliary?: boolean;
}
export interface ModelOutput {
  logits: tf.Tensor2D;
  auxLogits?: tf.Tensor2D;
}
export interface Model {
  readonly inputShape: readonly [number, number, number]; // [H, W, C]
  readonly numClasses: number;
  /** Inputs are images in [0, 1]; per-channel normalisation (mean/std given at build time) happens inside. */
  apply(x: tf.Tensor4D, options: ApplyOptions): ModelOutput;
  readonly trainableVariables: readonly tf.Variable[];
  /** Non-trainable state (BatchNorm running mean/var), saved with the weights. */
  readonly stateVariables: readonly tf.Variable[];
  /** Called by the train step after a training-mode apply() to fold that batch's BN statistics into the running ones. */
  commitBatchStatistics(): void;
  readonly params: number; // trainable parameters, auxiliary head excluded
  readonly macs: number; // multiply-adds of one forward pass of one image, auxiliary head excluded
  dispose(): void;
  /** Optional (addition): names of trainableVariables and stateVariables, in the same order. */
  readonly variableNames?: {
    readonly trainable: readonly string[];
    readonly state: readonly string[];
  };
  /** Optional (addition): drops the BN statistics of a training-mode apply() that is not committed. */
  discardBatchStatistics?(): void;
  /** Optional (addition): trainable variables of the auxiliary head (absent from the loss without aux). */
  readonly auxiliaryVariables?: readonly tf.Variable[];
}
export interface BuildOptions {
  channels: number;
  layers: number;
  numClasses: number;
  inputShape: [number, number, number];
  auxiliary?: boolean;
  seed: number;
  normalization?: { mean: number[]; std: number[] };
}

/** What a network contributes to a Model: the forward pass on normalised NHWC input. */
export interface NetworkBody {
  apply(x: tf.Tensor4D, ctx: ForwardContext): ModelOutput;
}

export class StoreModel implements Model {
  readonly trainableVariables: readonly tf.Variable[];
  readonly stateVariables: readonly tf.Variable[];
  readonly auxiliaryVariables: readonly tf.Variable[];
  readonly variableNames: {
    readonly trainable: readonly string[];
    readonly state: readonly string[];
  };
  readonly params: number;
  readonly macs: number;
  private readonly mean?: tf.Tensor1D;
  private readonly invStd?: tf.Tensor1D;
  private readonly dropRng: Rng;
  private disposed = false;

  constructor(
    private readonly body: NetworkBody,
    private readonly store: ParameterStore,
    readonly inputShape: readonly [number, number, number],
    readonly numClasses: number,
    seed: number,
    normalization?: { mean: number[]; std: number[] },
  ) {
    this.trainableVariables = store.trainable.map((v) => v.variable);
    this.stateVariables = store.state.map((v) => v.variable);
    this.auxiliaryVariables = store.trainable
      .filter((v) => v.name.startsWith('auxiliary_head.'))
      .map((v) => v.variable);
    this.variableNames = {
      trainable: store.trainable.map((v) => v.name),
      state: store.state.map((v) => v.name),
    };
    this.params = store.params;
    this.macs = store.macs;
    if (normalization) {
      this.mean = tf.keep(tf.tensor1d(normalization.mean));
      this.invStd = tf.keep(tf.tensor1d(normalization.std.map((s) => 1 / s)));
    }
    this.dropRng = Rng.fromSeed(`drop-path:${seed}`);
  }

  apply(x: tf.Tensor4D, options: ApplyOptions): ModelOutput {
    if (this.disposed) throw new Error('model has been disposed');
    const [h, w, c] = this.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new RangeError(
        `model expects input [batch, ${h}, ${w}, ${c}], got [${x.shape.join(', ')}]`,
      );
    }
    const dropPathProb = options.training ? (options.dropPathProb ?? 0) : 0;
    const ctx: ForwardContext = {
      training: options.training,
      dropPathProb,
      dropPathMask: (batch) => this.dropPathMask(batch, dropPathProb),
      relu: reluCache(),
      auxiliary: options.training && options.auxiliary !== false,
    };
    return tf.tidy(() => {
      const input: tf.Tensor4D =
        this.mean && this.invStd ? tf.mul(tf.sub(x, this.mean), this.invStd) : x;
      const out = this.body.apply(input, ctx);
      return out.auxLogits
        ? { logits: out.logits, auxLogits: out.auxLogits }
        : { logits: out.logits };
    });
  }

  commitBatchStatistics(): void {
    for (const holder of this.store.statisticsHolders) holder.commit();
  }

  discardBatchStatistics(): void {
    for (const holder of this.store.statisticsHolders) holder.discard();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.discardBatchStatistics();
    for (const v of [...this.trainableVariables, ...this.stateVariables]) v.dispose();
    for (const t of this.store.constants) t.dispose();
    this.mean?.dispose();
    this.invStd?.dispose();
  }

  /** DARTS drop_path: each sample kept with probability 1-p, kept ones scaled by 1/(1-p). */
  private dropPathMask(batch: number, p: number): tf.Tensor4D {
    const keep = 1 - p;
    const values = new Float32Array(batch);
    for (let i = 0; i < batch; i++) values[i] = this.dropRng.next() < keep ? 1 / keep : 0;
    return tf.tensor4d(values, [batch, 1, 1, 1]);
  }
}
