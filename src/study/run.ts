/**
 * Drives a study's plan to the end: every job not yet in the journal is evaluated (up to the
 * executor's concurrency at once, an ensemble only once its members' weights are stored) and
 * recorded as soon as it finishes. A network that cannot be trained (an EvaluationFailure) is
 * recorded as failed, and so is an ensemble with a failed member; any other error (the machine's:
 * a full disk, a crashed backend, a missing data set) stops the study after the evaluations in
 * flight are recorded, and rerunning continues from there.
 */
import { EvaluationFailure, type EvalProgress } from '../core/evaluation.js';
import type { ArchitectureSpec } from '../evaluator/architecture.js';
import type { StudyExecutor } from './executors.js';
import type { StudyJob } from './plan.js';
import type { JournalEntry, StudyFolder } from './study-folder.js';
import type { StudyTask } from './study-task.js';

export type StudyEvent =
  | { readonly type: 'started'; readonly job: StudyJob }
  | { readonly type: 'progress'; readonly job: StudyJob; readonly progress: EvalProgress }
  | { readonly type: 'finished'; readonly job: StudyJob; readonly entry: JournalEntry };

export interface RunStudyOptions {
  readonly jobs: readonly StudyJob[];
  readonly folder: StudyFolder;
  readonly executor: StudyExecutor;
  readonly onEvent?: (e: StudyEvent) => void;
}

function taskOf(
  job: StudyJob,
  byId: ReadonlyMap<string, StudyJob>,
  folder: StudyFolder,
): StudyTask {
  if (job.kind === 'train') {
    return {
      members: [job.spec as ArchitectureSpec],
      config: job.config,
      seed: job.seed,
      keepWeights: job.keepWeights,
    };
  }
  const memberIds = job.memberJobs ?? [];
  return {
    members: memberIds.map((id) => byId.get(id)?.spec as ArchitectureSpec),
    config: job.config,
    seed: job.seed,
    keepWeights: false,
    weightFiles: memberIds.map((id) => folder.weightsPath(id)),
  };
}

export async function runStudy(options: RunStudyOptions): Promise<void> {
  const { jobs, folder, executor } = options;
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
      if (failedMember !== undefined) {
        entry = { id: job.id, failed: `member ${failedMember} failed` };
      } else {
        try {
          const result = await executor.run(
            taskOf(job, byId, folder),
            { id: job.id, index: index.get(job.id) ?? 0 },
            (progress) => emit({ type: 'progress', job, progress }),
          );
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
          entry = { id: job.id, failed: err.message };
        }
      }
      await folder.record(entry, weights);
      emit({ type: 'finished', job, entry });
    };
    return work();
  };

  while (waiting.length > 0 || inFlight.size > 0) {
    if (stopError === undefined) {
      while (inFlight.size < executor.concurrency) {
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
