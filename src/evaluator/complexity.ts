/**
 * Exact parameter and multiply-add counts of a network, without building any tensor: the same
 * construction code as buildModel runs on a counting-only ParameterStore, so the figures are those
 * of the built Model by construction.
 *
 * Conventions:
 * - params: every trainable parameter (conv and linear weights, linear biases, conv biases where
 *   the network has them, BatchNorm gamma and beta), as PyTorch's
 *   `sum(p.numel() for p in model.parameters())`; BN running statistics are not parameters; the
 *   auxiliary head is excluded (as the DARTS paper reports).
 * - macs: multiply-accumulates of one image's forward pass in convolutions (out_h * out_w * out_c *
 *   k_h * k_w * in_c / groups) and linear layers (in * out), as thop/ptflops count conv + linear;
 *   BatchNorm, activations, pooling, additions, concatenations and biases are not counted; the
 *   auxiliary head is excluded.
 */
import type { ArchitectureSpec } from './architecture.js';
import { buildNetworkBody } from './architecture.js';
import { ParameterStore } from './layers/parameter-store.js';
import type { BuildOptions } from './model.js';

export interface Complexity {
  readonly params: number;
  readonly macs: number;
}

export function complexityOf(
  spec: ArchitectureSpec,
  options: Omit<BuildOptions, 'seed'> & { seed?: number },
): Complexity {
  const store = new ParameterStore(0, true);
  buildNetworkBody(spec, { ...options, seed: options.seed ?? 0 }, store);
  return { params: store.params, macs: store.macs };
}
