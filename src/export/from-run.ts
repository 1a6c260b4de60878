/**
 * What to export for a candidate of a stored run: its genotype, the network the run trained (the
 * run's channels, cells, data set and auxiliary head; the data set's input shape, classes and
 * normalisation), and its trained weights when the run kept them (a search keeps the weights of
 * its current Pareto front only: src/store/run-weights.ts).
 */
import { access, readFile } from 'node:fs/promises';
import type { DatasetName } from '../core/evaluation.js';
import { InputError } from '../core/errors.js';
import type { Genotype } from '../core/genotype.js';
import { objectiveLabel } from '../core/objectives.js';
import { DATASET_SPECS, datasetSpec } from '../evaluator/datasets/registry.js';
import { RunCatalogue } from '../store/run-catalogue.js';
import { weightsFile } from '../store/run-weights.js';
import type { ExportRequest } from './export-model.js';
import type { ExportNetwork } from './state-dict.js';

/** The network options robust-nas builds for a data set (shape, classes, normalisation). */
export function datasetNetworkOptions(dataset: DatasetName) {
  if (!(dataset in DATASET_SPECS)) {
    // A run on the user's own images normalises with their training images' statistics, which
    // the run does not store: an export without them would compute something else.
    throw new InputError(
      `export-model: data set '${dataset}' (your own images) is not supported yet: its normalisation comes from the training images`,
    );
  }
  const spec = datasetSpec(dataset as keyof typeof DATASET_SPECS);
  return {
    inputShape: [...spec.shape] as [number, number, number],
    numClasses: spec.numClasses,
    normalization: { mean: [...spec.mean], std: [...spec.std] },
  };
}

const HASH_PREFIX = /^[0-9a-f]{4,}$/i;

/**
 * The export of candidate `hash` (the full hash or a unique prefix of at least 4 characters) of run
 * `runId`, without the output folder. InputError for a hash not in the run; the store's errors
 * (unknown run, corrupt run) pass through.
 */
export async function runCandidateExport(
  runsDir: string,
  runId: string,
  hash: string,
): Promise<Omit<ExportRequest, 'outDir'>> {
  if (!HASH_PREFIX.test(hash)) {
    throw new InputError(`hash '${hash}': expected a genotype hash (hex, at least 4 characters)`);
  }
  const store = new RunCatalogue(runsDir);
  const run = await store.read(runId);
  const wanted = hash.toLowerCase();
  const hashes = [...new Set(run.evaluations.map((e) => e.hash))];
  const exact = hashes.filter((h) => h === wanted);
  const matches = exact.length > 0 ? exact : hashes.filter((h) => h.startsWith(wanted));
  if (matches.length === 0) {
    throw new InputError(`run ${runId} has no candidate with hash '${hash}'`);
  }
  if (matches.length > 1) {
    throw new InputError(
      `hash '${hash}' matches ${matches.length} candidates of run ${runId} (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', ...' : ''}): give more of it`,
    );
  }
  const full = matches[0] as string;
  const evaluations = run.evaluations.filter((e) => e.hash === full);
  const first = evaluations[0] as (typeof evaluations)[number];
  const runDir = store.runDir(runId);
  let found: { index: number; file: string; genotype: Genotype } | undefined;
  for (const e of evaluations) {
    if (e.status !== 'finished') continue;
    const file = weightsFile(runDir, e.index);
    if (await exists(file)) {
      found = { index: e.index, file, genotype: e.genotype };
      break;
    }
  }
  const evaluation = run.config.evaluation;
  const network: ExportNetwork = {
    // The genotype as that evaluation built it (variable names follow its edge order; genotypes
    // with one canonical hash may list a node's edges in another order).
    spec: { genotype: found?.genotype ?? first.genotype },
    options: {
      channels: evaluation.channels,
      layers: evaluation.layers,
      auxiliary: evaluation.auxiliaryWeight > 0,
      ...datasetNetworkOptions(evaluation.dataset),
    },
  };
  const front = run.generations.at(-1)?.front ?? [];
  const onFront = evaluations.some((e) => front.includes(e.index));
  let weights: ExportRequest['weights'];
  if (found) {
    weights = { bytes: await readFile(found.file), source: found.file };
  } else if (run.config.evaluator !== 'real') {
    weights = {
      none: `run ${runId} uses the ${run.config.evaluator} evaluator, which trains no networks`,
    };
  } else if (!evaluations.some((e) => e.status === 'finished')) {
    weights = { none: `candidate ${full} has no finished evaluation in run ${runId}` };
  } else {
    weights = {
      none: `run ${runId} keeps the trained weights of its current Pareto front only, and candidate ${full} is ${onFront ? 'on it but its weights file is missing' : 'not on it'}`,
    };
  }
  // The scores of the evaluation whose weights are exported (else of the first finished one).
  const scored =
    evaluations.find((e) => e.index === found?.index) ??
    evaluations.find((e) => e.objectives !== undefined);
  const scores = scored?.objectives
    ? run.config.objectives
        .map((o, k) => `${objectiveLabel(o)} ${Number(scored.objectives?.[k]).toFixed(4)}`)
        .join(', ')
    : undefined;
  return {
    network,
    title: `Candidate ${full} of robust-nas run ${runId}`,
    weights,
    provenance: {
      run: runId,
      hash: full,
      ...(found ? { evaluation: String(found.index) } : {}),
      dataset: evaluation.dataset,
      network: `${evaluation.channels} channels, ${evaluation.layers} cells${network.options.auxiliary ? ', auxiliary head' : ''}`,
      training: `${evaluation.epochs} epochs on ${evaluation.trainSize} images`,
      ...(scores && scored
        ? {
            objectives: `${scores} (evaluation ${scored.index}, ${evaluation.split} split; ${evaluations.length} evaluation(s) of this candidate in the run)`,
          }
        : {}),
      pareto_front: onFront ? 'yes (latest generation)' : 'no',
    },
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
