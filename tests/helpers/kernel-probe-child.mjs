/**
 * Computes the kernel fingerprint (src/evaluator/wasm-kernels/kernel-fingerprint.ts) on the wasm
 * backend from the build (dist/; tests/global-setup.ts builds it), as a worker thread (posts the
 * result) or a child process (prints it as JSON). The backend selects its kernel variant itself,
 * as every thread and process the project starts does.
 */
import { isMainThread, parentPort } from 'node:worker_threads';

const dist = (p) => new URL(`../../dist/evaluator/${p}`, import.meta.url).href;
const { initBackend } = await import(dist('backend.js'));
const { kernelVariantLabel } = await import(dist('wasm-kernels/kernels-module.js'));
const { kernelFingerprint } = await import(dist('wasm-kernels/kernel-fingerprint.js'));
const info = await initBackend('wasm');
const { outputs, hash } = kernelFingerprint();
const label = kernelVariantLabel(info.kernels);
if (isMainThread)
  process.stdout.write(JSON.stringify({ label, hash, outputs: outputs.map((o) => Array.from(o)) }));
else parentPort.postMessage({ label, hash, outputs });
