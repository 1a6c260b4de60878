/**
 * Drives a study's plan to the end: every job not yet in the journal is evaluated through the
 * placement layer's evaluator (this process, a local pool, or the queue: networks, baselines and
 * ensembles alike, as evaluation tasks of src/core/evaluation-task.ts), up to the evaluator's
 * concurrency at once, an ensemble only once its members' weights are stored (they travel with its
 * task), and recorded as soon as it finishes. A network that cannot be trained (an
 * EvaluationFailure) is recorded as failed, and so is an ensemble with a failed member; any other
 * error (the environment's: a full disk, a worker that kept dying, a missing data set) stops the
 * study after the evaluations in flight are recorded, and rerunning continues from there.
 */
import { readFile } from 'node:fs/promises';
import { EvaluationFailure, type EvalProgress } from '../core/evaluation.js';
import type { EvaluationTask, NetworkSpec } from '../core/evaluation-task.js';
import type { RunEvaluator } from '../placement/placement.js';
import type { StudyJob } from './plan.js';
import type { JournalEntry, StudyFolder } from './study-folder.js';

export type StudyEvent =
  | { readonly type: 'started'; readonly job: StudyJob }
  | { readonly type: 'progress'; readonly job: StudyJob; readonly progress: EvalProgress }
  | { readonly type: 'finished'; readonly job: StudyJob; readonly entry: JournalEntry };

export interface RunStudyOptions {
  readonly jobs: readonly StudyJob[];
  readonly folder: StudyFolder;
  readonly evaluator: RunEvaluator;
  /** The study's name on the queue (job ids `<studyKey>.<plan index>`; see studyKey()). */
  readonly studyKey: string;
  /** Evaluations in flight (default: the evaluator's concurrency). */
  readonly concurrency?: number;
  readonly onEvent?: (e: StudyEvent) => void;
}

/** The evaluation task of `job`: one network, or an ensemble with its members' stored weights. */
async function taskOf(
  job: StudyJob,
  byId: ReadonlyMap<string, StudyJob>,
  folder: StudyFolder,
): Promise<EvaluationTask> {
  if (job.kind === 'train') {
    return {
      members: [job.spec as NetworkSpec],
      config: job.config,
      seed: job.seed,
      keepWeights: job.keepWeights,
    };
  }
  const memberIds = job.memberJobs ?? [];
  const memberWeights = await Promise.all(
    memberIds.map(async (id) => {
      const file = folder.weightsPath(id);
      try {
        return new Uint8Array(await readFile(file));
      } catch (err) {
        throw new Error(
          `${job.id}: the weights of member ${id} cannot be read (${file}: ${err instanceof Error ? err.message : String(err)})`,
          { cause: err },
        );
      }
    }),
  );
  return {
    members: memberIds.map((id) => byId.get(id)?.spec as NetworkSpec),
    config: job.config,
    seed: job.seed,
    keepWeights: false,
    memberWeights,
  };
}

export async function runStudy(options: RunStudyOptions): Promise<void> {
  const { jobs, folder, evaluator } = options;
  const concurrency = options.concurrency ?? evaluator.concurrency;
  const emit = options.onEvent ?? (() => {});
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const index = new Map(jobs.map((j, i) => [j.id, i]));
  const done = (id: string) => folder.entries().has(id);
  // Members whose weights were lost are trained again before the ensembles that load them.
  folder.forgetLostWeights(
    jobs.filter((j) => j.kind === 'ensemble' && !done(j.id)).flatMap((j) => j.memberJobs ?? []),
  );
  const waiting = jobs.filter((j) => !done(j.id));
  const inFlight = new Map<string, Promise<void>>();
  let stopError: unknown;

  const ready = (job: StudyJob) => (job.memberJobs ?? []).every(done);
  const launch = (job: StudyJob): Promise<void> => {
    emit({ type: 'started', job });
    const failedMember = (job.memberJobs ?? []).find((id) => {
      const e = folder.entries().get(id);
      return e !== undefined && 'failed' in e;
    });
    const work = async (): Promise<void> => {
      let entry: JournalEntry;
      let weights: Uint8Array | undefined;
      let release: (() => Promise<void>) | undefined;
      if (failedMember !== undefined) {
        entry = { id: job.id, failed: `member ${failedMember} failed` };
      } else {
        try {
          const result = await evaluator.run(
            await taskOf(job, byId, folder),
            (progress) => emit({ type: 'progress', job, progress }),
            { job: { runId: options.studyKey, index: index.get(job.id) ?? 0 } },
          );
          release = result.release;
          const { clean, adversarial, params, macs, seconds, backend } = result.scores;
          entry = {
            id: job.id,
            scores: { clean, adversarial: [...adversarial], params, macs, seconds, backend },
          };
          weights = job.keepWeights ? result.weights : undefined;
          if (job.keepWeights && !weights) {
            throw new Error(`${job.id}: the evaluator returned no weights for the ensembles`);
          }
        } catch (err) {
          if (!(err instanceof EvaluationFailure)) throw err;
          release = err.release;
          entry = { id: job.id, failed: err.message };
        }
      }
      await folder.record(entry, weights);
      // Stored: the evaluator may drop its own copy (the queue's finished job).
      void release?.().catch(() => {});
      emit({ type: 'finished', job, entry });
    };
    return work();
  };

  while (waiting.length > 0 || inFlight.size > 0) {
    if (stopError === undefined) {
      while (inFlight.size < concurrency) {
        const at = waiting.findIndex(ready);
        if (at < 0) break;
        const [job] = waiting.splice(at, 1) as [StudyJob];
        const p = launch(job)
          .catch((err: unknown) => {
            stopError ??= err;
          })
          .finally(() => inFlight.delete(job.id));
        inFlight.set(job.id, p);
      }
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  if (stopError !== undefined) throw stopError;
  const missing = waiting.filter((j) => !done(j.id));
  if (missing.length > 0) {
    throw new Error(
      `${missing.length} evaluations could not start (${missing[0]?.id} waits for members)`,
    );
  }
}
