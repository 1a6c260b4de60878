/**
 * SGD with momentum, PyTorch semantics (torch.optim.SGD, dampening 0): g += wd * p;
 * buf = momentum * buf + g (buf = g on the first step); step = nesterov ? g + momentum * buf : buf;
 * p -= lr * step. Momentum buffers are variables owned by the optimizer (dispose() frees them).
 * Where the backend has our fused update kernel (wasm), each parameter takes one kernel call.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SGD_UPDATE_KERNEL, sgdUpdateAttrs } from './wasm-kernels/sgd-update.js';

export interface SgdOptions {
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class Sgd {
  learningRate: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly buffers = new Map<tf.Variable, tf.Variable>();

  constructor(options: SgdOptions) {
    this.learningRate = options.learningRate;
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.nesterov && this.momentum <= 0) throw new RangeError('nesterov needs momentum > 0');
  }

  /** Applies one update to each variable from its gradient (gradients are not disposed). */
  step(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[]): void {
    if (tf.getKernel(SGD_UPDATE_KERNEL, tf.getBackend())) {
      this.fusedStep(variables, gradients);
      return;
    }
    tf.tidy(() => {
      variables.forEach((p, i) => {
        let g = gradients[i] as tf.Tensor;
        if (this.weightDecay !== 0) g = tf.add(g, tf.mul(p, this.weightDecay));
        if (this.momentum !== 0) {
          let buf = this.buffers.get(p);
          if (!buf) {
            buf = tf.variable(g, false);
            this.buffers.set(p, buf);
          } else {
            buf.assign(tf.add(tf.mul(buf, this.momentum), g));
          }
          g = this.nesterov ? tf.add(g, tf.mul(buf, this.momentum)) : buf;
        }
        p.assign(tf.sub(p, tf.mul(g, this.learningRate)));
      });
    });
  }

  private fusedStep(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[]): void {
    const attrs = sgdUpdateAttrs({
      learningRate: this.learningRate,
      momentum: this.momentum,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
    });
    tf.tidy(() => {
      variables.forEach((p, i) => {
        const g = gradients[i] as tf.Tensor;
        const buf = this.buffers.get(p);
        const inputs: tf.NamedTensorMap = buf ? { p, g, buf } : { p, g };
        const [next, nextBuf] = tf.engine().runKernel(SGD_UPDATE_KERNEL, inputs, attrs) as [
          tf.Tensor,
          tf.Tensor,
        ];
        p.assign(next);
        if (this.momentum === 0) return;
        if (buf) buf.assign(nextBuf);
        else this.buffers.set(p, tf.variable(nextBuf, false));
      });
    });
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
