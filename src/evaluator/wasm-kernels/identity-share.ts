/**
 * A wasm Identity that shares its input's buffer (reference count + 1) instead of copying it, as
 * tfjs's cpu backend does. tfjs clones every tensor it saves for the backward pass (and on
 * tf.clone, cast to the same dtype, variable creation): on wasm each of those was a full copy, so
 * a training step held every saved activation twice during the forward pass. Tensors are
 * immutable and every kernel writes to a fresh output, so sharing is safe.
 */
import {
  Identity,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { DataId } from '@tensorflow/tfjs-core';

interface RefCountingBackend {
  incRef(dataId: DataId): void;
}

function identityShare(
  original: KernelConfig,
): (args: { inputs: { x: TensorInfo }; backend: RefCountingBackend }) => TensorInfo {
  return (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string')
      return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** Our Identity, wrapping tfjs-backend-wasm's (passed in) for string tensors. */
export function identityShareConfig(original: KernelConfig): KernelConfig {
  return {
    kernelName: Identity,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: identityShare(original) as unknown as KernelFunc,
  };
}
