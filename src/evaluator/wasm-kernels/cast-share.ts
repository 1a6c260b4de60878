/**
 * A wasm Cast that, when the dtype does not change, shares its input's data (reference count + 1,
 * as tfjs-backend-wasm's own Reshape does and as the cpu backend does for such casts) instead of
 * copying it. tfjs's engine runs a same-dtype Cast on the gradient of every tensor it saved for
 * the backward pass (the gradient of its clone), so on wasm each of those was a full copy.
 * Tensors are immutable and every kernel writes to a fresh output, so sharing is safe. Other casts
 * run tfjs-backend-wasm's kernel.
 */
import {
  Cast,
  type DataType,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { shareData, type RefCountingBackend } from './identity-share.js';

/** Our Cast, wrapping tfjs-backend-wasm's (passed in) for casts that change the dtype. */
export function castShareConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = ((args: {
    inputs: { x: TensorInfo };
    attrs: { dtype: DataType };
    backend: RefCountingBackend;
  }) => {
    const { x } = args.inputs;
    if (x.dtype !== args.attrs.dtype || x.dtype === 'string') {
      return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    return shareData(args.backend, x);
  }) as unknown as KernelFunc;
  return { kernelName: Cast, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc };
}
