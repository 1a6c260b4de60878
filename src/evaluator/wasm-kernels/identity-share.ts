/**
 * A wasm Identity that shares its input's buffer (reference count + 1) instead of copying it, as
 * tfjs's cpu backend does. tfjs clones every tensor it saves for the backward pass (and on
 * tf.clone, cast to the same dtype, variable creation): on wasm each of those was a full copy, so
 * a training step held every saved activation twice during the forward pass. Tensors are
 * immutable and every kernel writes to a fresh output, so sharing is safe.
 */
import {
  Identity,
  type DataId,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

export interface RefCountingBackend {
  incRef(dataId: DataId): void;
}

/** A tensor on `x`'s own data (its reference count + 1): no copy. */
export function shareData(backend: RefCountingBackend, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

function identityShare(
  original: KernelConfig,
): (args: { inputs: { x: TensorInfo }; backend: RefCountingBackend }) => TensorInfo {
  return (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string')
      return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    return shareData(args.backend, x);
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
