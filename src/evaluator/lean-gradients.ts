/**
 * A leaner backward pass for tfjs's engine (all backends). tfjs-core's `gradients()` keeps every
 * tensor saved for the backward pass and every intermediate gradient alive until the whole backward
 * pass ends, so a training step's peak memory is the saved activations plus all the gradients. This
 * replacement walks the same filtered tape in the same order with the same gradient functions and
 * arithmetic, but frees as it goes (as PyTorch's autograd does):
 * - a node's saved tensors once its gradient has been computed (only for registered kernels, whose
 *   saved tensors are the engine's private clones; customGrad nodes keep theirs),
 * - the gradient of a node's outputs once the node has been processed, and a partial gradient once
 *   it has been added into the accumulated one.
 * Results are bit-identical to tfjs-core's. Used only outside higher-order differentiation (tape
 * depth 0); anything else, or an engine without the expected internals, goes to the original.
 */
import * as tf from '@tensorflow/tfjs-core';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, fn: () => T): T;
  gradients: GradientsFn;
}

type GradientsFn = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: tf.Tensor[] };

/** The nodes on a path from some x to y, with inputs pruned to those that depend on an x (tfjs's rule). */
function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX.has((node.inputs[name] as tf.Tensor).id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i] as TapeNode;
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const name in node.inputs) {
        toY.add((node.inputs[name] as tf.Tensor).id);
        nodesToY.add(node.id);
      }
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) {
      const input = node.inputs[name] as tf.Tensor;
      if (fromX.has(input.id)) inputs[name] = input;
    }
    filtered.push({ ...node, inputs, outputs: node.outputs });
  }
  return filtered;
}

/** Accumulated gradients by tensor id, with reference counts so a shared Tensor is freed once. */
class GradientMap {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly refs = new Map<tf.Tensor, number>();

  constructor(private readonly protectedTensors: Set<tf.Tensor>) {}

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  set(id: number, t: tf.Tensor): void {
    this.refs.set(t, (this.refs.get(t) ?? 0) + 1);
    const old = this.byId.get(id);
    this.byId.set(id, t);
    if (old) this.release(old);
  }

  delete(id: number): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    this.release(old);
  }

  /** Whether the map references this tensor. */
  holds(t: tf.Tensor): boolean {
    return this.refs.has(t);
  }

  /** Frees a tensor no longer referenced by the map (unless it is protected). */
  releaseIfUnused(t: tf.Tensor): void {
    if (!this.refs.has(t) && !this.protectedTensors.has(t)) t.dispose();
  }

  private release(t: tf.Tensor): void {
    const n = (this.refs.get(t) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(t, n);
      return;
    }
    this.refs.delete(t);
    if (!this.protectedTensors.has(t)) t.dispose();
  }
}

function backpropagate(
  engine: EngineInternals,
  map: GradientMap,
  filtered: TapeNode[],
  keepIds: Set<number>,
): void {
  const backendName = tf.getBackend();
  for (let i = filtered.length - 1; i >= 0; i--) {
    const node = filtered[i] as TapeNode;
    const dys = node.outputs.map((o) => map.get(o.id) ?? null);
    if (!node.gradient)
      throw new Error(
        `Cannot compute gradient: gradient function not found for ${node.kernelName}.`,
      );
    const inputGradients = node.gradient(dys);
    for (const name in node.inputs) {
      const thunk = inputGradients[name];
      if (!thunk)
        throw new Error(
          `Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`,
        );
      const dx = engine.tidy('gradient', () => thunk());
      if (dx.dtype !== 'float32')
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      const x = node.inputs[name] as tf.Tensor;
      if (!tf.util.arraysEqual(dx.shape, x.shape))
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      const current = map.get(x.id);
      if (!current) {
        map.set(x.id, dx);
      } else {
        map.set(x.id, tf.add(current, dx));
        map.releaseIfUnused(dx);
      }
    }
    for (const o of node.outputs) if (!keepIds.has(o.id)) map.delete(o.id);
    // Registered kernels' saved tensors are the engine's own clones: free them now.
    if (node.saved && tf.getKernel(node.kernelName, backendName))
      for (const t of node.saved) if (!map.holds(t)) t.dispose();
  }
}

let installed = false;
let tfjsGradients: GradientsFn | undefined;

/** Whether the lean backward pass is installed. */
export function leanGradientsInstalled(): boolean {
  return installed;
}

/** Runs `fn` with tfjs-core's own backward pass (for comparisons in tests and benchmarks). */
export function withTfjsGradients<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as EngineInternals;
  if (!tfjsGradients) return fn();
  const lean = engine.gradients;
  engine.gradients = tfjsGradients;
  try {
    return fn();
  } finally {
    engine.gradients = lean;
  }
}

/** Replaces the engine's `gradients` with the lean version (idempotent). */
export function installLeanGradients(): void {
  if (installed) return;
  const engine = tf.engine() as unknown as EngineInternals;
  if (
    typeof engine.gradients !== 'function' ||
    typeof engine.scopedRun !== 'function' ||
    typeof engine.startTape !== 'function' ||
    typeof engine.endTape !== 'function' ||
    typeof engine.state !== 'object'
  )
    return;
  installed = true;
  const original = engine.gradients.bind(engine);
  tfjsGradients = original;
  engine.gradients = function leanGradients(f, xs, dy, allowNoGradients = false) {
    // Nested differentiation (a gradient taken inside a gradient) keeps tfjs's own pass.
    if (engine.state.gradientDepth !== 0) return original(f, xs, dy, allowNoGradients);
    tf.util.assert(xs.length > 0, () => 'gradients() received an empty list of xs.');
    if (dy != null && dy.dtype !== 'float32')
      throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy('forward', f),
    );
    tf.util.assert(y instanceof tf.Tensor, () => 'The result y returned by f() must be a tensor.');
    const tape = engine.state.activeTape ?? [];
    const filtered = filterTape(tape, xs, y);
    if (!allowNoGradients && filtered.length === 0 && xs.length > 0)
      throw new Error(
        'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
      );
    return engine.tidy('backward', () => {
      const seed = dy ?? tf.ones(y.shape);
      const map = new GradientMap(new Set(dy ? [dy] : []));
      map.set(y.id, seed);
      const keepIds = new Set(xs.map((x) => x.id));
      backpropagate(engine, map, filtered, keepIds);
      const grads = xs.map((x) => map.get(x.id)) as tf.Tensor[];
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
      return { value: y, grads };
    }) as unknown as { value: tf.Tensor; grads: tf.Tensor[] };
  };
}
