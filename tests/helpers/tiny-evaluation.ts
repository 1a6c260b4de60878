/**
 * The smallest real evaluation the tests run: a 2-channel, 1-cell network trained for one epoch on 64
 * synthetic images and attacked with FGSM on 32 (about a second on wasm).
 */
import { evalConfigSchema, type EvalConfig } from '../../src/core/evaluation.js';

/** As a config input (for search configs and variations). */
export const TINY_EVALUATION = {
  dataset: 'synthetic',
  channels: 2,
  layers: 1,
  epochs: 1,
  trainSize: 64,
  valSize: 32,
  testSize: 32,
  batchSize: 32,
  attacks: [{ name: 'fgsm', eps: 0.1 }],
} as const;

/** The parsed config, with every default filled in. */
export function tinyEvaluation(changes: Record<string, unknown> = {}): EvalConfig {
  return evalConfigSchema.parse({ ...TINY_EVALUATION, ...changes });
}
