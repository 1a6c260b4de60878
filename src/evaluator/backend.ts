/**
 * Chooses and initialises the TensorFlow.js backend: `@tensorflow/tfjs-node-gpu` >
 * `@tensorflow/tfjs-node` > wasm (with our training kernels) > cpu. `initBackend('auto')` takes the
 * first that loads; a name (or env ROBUST_NAS_BACKEND) forces one and fails with an `InputError`
 * naming what is missing. Idempotent: a second call with the same choice returns the same info.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../core/errors.js';
// tfjs-core's Node entry registers no gradients: make sure they are before anything trains.
import './register-gradients.js';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The environment variable that forces a backend when `initBackend` gets no explicit choice. */
export const BACKEND_ENV_VAR = 'ROBUST_NAS_BACKEND';

export interface BackendInfo {
  /** Our name for the backend. */
  readonly name: BackendName;
  /** The npm package that provides it. */
  readonly package: string;
  /** wasm only: whether the SIMD binary is in use. */
  readonly simd?: boolean;
  /** wasm only: XNNPACK threads (1 in Node: the wasm backend has no threads there). */
  readonly threads?: number;
}

const PACKAGES: Record<BackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** tfjs's own registry name for each backend. */
const TFJS_NAMES: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

let current: BackendInfo | undefined;
let currentChoice: BackendName | 'auto' | undefined;
let pending: Promise<BackendInfo> | undefined;
let wasmPathsSet = false;

/** Parses a user-supplied backend name ('auto' or one of BACKEND_NAMES). */
export function parseBackendName(value: string): BackendName | 'auto' {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  // Accept the package-ish aliases users may type.
  const aliases: Record<string, BackendName> = {
    'tfjs-node': 'tensorflow',
    node: 'tensorflow',
    'tfjs-node-gpu': 'tensorflow-gpu',
    gpu: 'tensorflow-gpu',
  };
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  if (aliases[v]) return aliases[v];
  throw new InputError(`unknown backend '${value}': expected auto, ${BACKEND_NAMES.join(', ')}`);
}

/**
 * Initialises the backend: `preferred` if given, else env ROBUST_NAS_BACKEND, else 'auto'.
 * Safe to call many times; concurrent calls share one initialisation.
 */
export async function initBackend(preferred?: BackendName | 'auto'): Promise<BackendInfo> {
  const fromEnv = process.env[BACKEND_ENV_VAR];
  const choice: BackendName | 'auto' =
    preferred ?? (fromEnv !== undefined && fromEnv !== '' ? parseBackendName(fromEnv) : 'auto');
  if (pending && currentChoice === choice) {
    const info = await pending.catch(() => undefined);
    if (info && tf.getBackend() === TFJS_NAMES[info.name]) return info;
  }
  currentChoice = choice;
  const attempt = choice === 'auto' ? initAuto() : initNamed(choice);
  pending = attempt;
  try {
    const info = await attempt;
    current = info;
    return info;
  } catch (err) {
    if (pending === attempt) {
      pending = undefined;
      currentChoice = undefined;
    }
    throw err;
  }
}

async function initAuto(): Promise<BackendInfo> {
  const failures: string[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      return await initNamed(name);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${failures.join('; ')})`);
}

async function initNamed(name: BackendName): Promise<BackendInfo> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return initNative(name);
    case 'wasm':
      return initWasm();
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      await activate('cpu');
      return { name: 'cpu', package: PACKAGES.cpu };
  }
}

async function initNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<BackendInfo> {
  const pkg = PACKAGES[name];
  // A variable specifier: the optional packages (and their types) are usually absent.
  const specifier: string = pkg;
  try {
    await import(specifier);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InputError(
      `backend '${name}' is unavailable: package ${pkg} is not installed or failed to load (${reason})`,
    );
  }
  await activate('tensorflow');
  return { name, package: pkg };
}

async function initWasm(): Promise<BackendInfo> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    const require = createRequire(import.meta.url);
    const dir = dirname(
      require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
    );
    wasm.setWasmPaths(`${dir}/`);
    wasmPathsSet = true;
  }
  registerWasmTrainingKernels();
  await activate('wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { name: 'wasm', package: PACKAGES.wasm, simd, threads: wasm.getThreadsCount() };
}

async function activate(tfjsName: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfjsName);
  } catch (err) {
    throw new Error(
      `backend '${tfjsName}' failed to initialise: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!ok || tf.getBackend() !== tfjsName)
    throw new Error(`backend '${tfjsName}' failed to initialise`);
  await tf.ready();
}

/** The backend chosen by the last successful `initBackend`, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** One line naming the chosen backend, for commands to print on stderr at start. */
export function describeBackend(info: BackendInfo | undefined = current): string {
  if (!info) return 'backend: not initialised';
  const extras: string[] = [];
  if (info.simd !== undefined) extras.push(info.simd ? 'SIMD' : 'no SIMD');
  if (info.threads !== undefined)
    extras.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  return `backend: ${info.name} (${info.package}${extras.length ? `, ${extras.join(', ')}` : ''})`;
}
