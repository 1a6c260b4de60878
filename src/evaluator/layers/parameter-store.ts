/**
 * Creates a network's variables while it is being built: deterministic initial values drawn from one
 * seeded Rng, hierarchical names (for saved weights), and the running parameter and multiply-add
 * counts. Parts built inside `uncounted` (the auxiliary head) are trained but not counted.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../core/rng.js';

export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
}

/** A layer holding per-batch state that the train step commits (BatchNorm running statistics). */
export interface BatchStatisticsHolder {
  commit(): void;
  discard(): void;
}

export class ParameterStore {
  readonly trainable: NamedVariable[] = [];
  readonly state: NamedVariable[] = [];
  readonly statisticsHolders: BatchStatisticsHolder[] = [];
  /** Constant tensors layers need (normalisation, pooling corrections); disposed with the model. */
  readonly constants: tf.Tensor[] = [];
  /** Trainable parameters counted so far. */
  params = 0;
  /** Multiply-adds of one image's forward pass counted so far. */
  macs = 0;
  private counting = true;
  private readonly path: string[] = [];
  private readonly rng: Rng;

  /**
   * @param seed initial weights are a deterministic function of it.
   * @param countOnly build no tensors at all, only count (for exact complexity figures).
   */
  constructor(
    seed: number,
    readonly countOnly = false,
  ) {
    this.rng = Rng.fromSeed(`weights:${seed}`);
  }

  /** Builds the parts created by `fn` under the name prefix `name`. */
  scoped<T>(name: string | number, fn: () => T): T {
    this.path.push(String(name));
    try {
      return fn();
    } finally {
      this.path.pop();
    }
  }

  /** Builds parts that train but are excluded from `params` and `macs` (the auxiliary head). */
  uncounted<T>(fn: () => T): T {
    const before = this.counting;
    this.counting = false;
    try {
      return fn();
    } finally {
      this.counting = before;
    }
  }

  addMacs(n: number): void {
    if (this.counting) this.macs += n;
  }

  /** A trainable variable uniform in [-bound, bound] (PyTorch's default conv/linear init). */
  uniform(name: string, shape: number[], bound: number): tf.Variable {
    if (this.countOnly) return this.add(name, shape, () => tf.scalar(0), true);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = (2 * this.rng.next() - 1) * bound;
    return this.add(name, shape, () => tf.tensor(values, shape), true);
  }

  /** A variable filled with one value: trainable (BN gamma/beta) or state (running statistics). */
  filled(name: string, shape: number[], value: number, trainable: boolean): tf.Variable {
    return this.add(name, shape, () => tf.fill(shape, value), trainable);
  }

  /** Keeps a constant tensor for the model's lifetime. */
  constant<T extends tf.Tensor>(make: () => T): T {
    if (this.countOnly) return undefined as unknown as T;
    const t = tf.keep(make());
    this.constants.push(t);
    return t;
  }

  registerStatistics(holder: BatchStatisticsHolder): void {
    if (!this.countOnly) this.statisticsHolders.push(holder);
  }

  private add(
    name: string,
    shape: number[],
    initial: () => tf.Tensor,
    trainable: boolean,
  ): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    if (trainable && this.counting) this.params += size;
    if (this.countOnly) return undefined as unknown as tf.Variable;
    const value = initial();
    const variable = tf.variable(value, trainable);
    value.dispose();
    const full = [...this.path, name].join('.');
    if (trainable) {
      this.trainable.push({ name: full, variable });
    } else {
      this.state.push({ name: full, variable });
    }
    return variable;
  }
}
