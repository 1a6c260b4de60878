/**
 * SGD with momentum, PyTorch semantics (torch.optim.SGD, dampening 0): g += wd * p;
 * buf = momentum * buf + g (buf = g on the first step); step = nesterov ? g + momentum * buf : buf;
 * p -= lr * step. Momentum buffers are variables owned by the optimizer (dispose() frees them).
 */
import * as tf from '@tensorflow/tfjs-core';

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

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
