/**
 * An ensemble as one Model: several separately trained members (DARTS genotypes or baselines)
 * combined into one output, so attacks differentiate end to end through every member.
 *   'logits':  the mean of the members' logits;
 *   'softmax': the log of the mean of the members' softmax probabilities (computed stably as
 *              logsumexp_k(log_softmax_k) - log K), i.e. log-probabilities of the averaged predictor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, Model, ModelOutput } from './model.js';

export const ENSEMBLE_COMBINES = ['logits', 'softmax'] as const;
export type EnsembleCombine = (typeof ENSEMBLE_COMBINES)[number];

export class EnsembleModel implements Model {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly trainableVariables: readonly tf.Variable[];
  readonly stateVariables: readonly tf.Variable[];
  readonly params: number;
  readonly macs: number;

  constructor(
    readonly members: readonly Model[],
    readonly combine: EnsembleCombine = 'logits',
  ) {
    const first = members[0];
    if (!first) throw new RangeError('an ensemble needs at least one member');
    for (const m of members) {
      if (
        m.inputShape.join('x') !== first.inputShape.join('x') ||
        m.numClasses !== first.numClasses
      ) {
        throw new RangeError(
          `ensemble members disagree: input ${m.inputShape.join('x')} / ${m.numClasses} classes vs ${first.inputShape.join('x')} / ${first.numClasses}`,
        );
      }
    }
    this.inputShape = first.inputShape;
    this.numClasses = first.numClasses;
    this.trainableVariables = members.flatMap((m) => m.trainableVariables);
    this.stateVariables = members.flatMap((m) => m.stateVariables);
    this.params = members.reduce((s, m) => s + m.params, 0);
    this.macs = members.reduce((s, m) => s + m.macs, 0);
  }

  apply(x: tf.Tensor4D, options: ApplyOptions): ModelOutput {
    const k = this.members.length;
    return {
      logits: tf.tidy(() => {
        const outs = this.members.map((m) => {
          const out = m.apply(x, {
            training: options.training,
            dropPathProb: options.dropPathProb,
          });
          out.auxLogits?.dispose();
          return out.logits;
        });
        if (this.combine === 'logits') return tf.div(tf.addN(outs), k) as tf.Tensor2D;
        const logProbs = tf.stack(outs.map((l) => tf.logSoftmax(l)));
        return tf.sub(tf.logSumExp(logProbs, 0), Math.log(k)) as tf.Tensor2D;
      }),
    };
  }

  commitBatchStatistics(): void {
    for (const m of this.members) m.commitBatchStatistics();
  }

  discardBatchStatistics(): void {
    for (const m of this.members) m.discardBatchStatistics?.();
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
