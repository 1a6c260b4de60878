/**
 * Worker-thread entry that runs the real (tfjs) evaluator off the server's event loop, so the API
 * and the live feed stay responsive while a network trains. Jobs run one at a time, in order.
 *
 * In:  {id, genotype, config, seed, options}
 * Out: {type: 'progress', id, progress} ... then {type: 'done', id, scores} or
 *      {type: 'error', id, name, message}
 */
import { parentPort } from 'node:worker_threads';
import { evaluateGenotype } from '../evaluator/evaluate.js';
import type { EvalConfig, EvaluateOptions } from '../core/evaluation.js';
import type { Genotype } from '../core/genotype.js';

export interface EvaluateJob {
  readonly id: number;
  readonly genotype: Genotype;
  readonly config: EvalConfig;
  readonly seed: number;
  readonly options?: EvaluateOptions;
}

const port = parentPort;
if (!port) throw new Error('evaluate-worker.js must run in a worker thread');

let queue: Promise<void> = Promise.resolve();
port.on('message', (job: EvaluateJob) => {
  queue = queue.then(async () => {
    try {
      const scores = await evaluateGenotype(
        job.genotype,
        job.config,
        job.seed,
        (progress) => port.postMessage({ type: 'progress', id: job.id, progress }),
        job.options,
      );
      port.postMessage({ type: 'done', id: job.id, scores });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ type: 'error', id: job.id, name: e.name, message: e.message });
    }
  });
});
