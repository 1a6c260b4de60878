/**
 * Worker thread of the throughput bench: initialises its own backend, runs one workload, and
 * waits at a barrier (posts 'ready', waits for 'go') before each timed phase.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type BackendName, initBackend } from './backend.js';
import { type BenchWorkerMessage, measureWorkload, type WorkloadName } from './throughput-bench.js';

interface BenchWorkerData {
  name: WorkloadName;
  steps: number;
  warmupSteps: number;
  backend: BackendName;
}

const port = parentPort;
if (port) {
  const data = workerData as BenchWorkerData;
  const post = (m: BenchWorkerMessage) => port.postMessage(m);
  const barrier = () =>
    new Promise<void>((resolve) => {
      port.once('message', () => resolve());
      post({ type: 'ready' });
    });
  try {
    await initBackend(data.backend);
    const result = await measureWorkload(data.name, data.steps, data.warmupSteps, barrier);
    post({ type: 'result', result });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}
