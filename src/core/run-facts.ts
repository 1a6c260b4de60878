/**
 * What a run is, said in words (issue 23): its whole configuration as label/value pairs (the
 * dashboard's run page, `runs show`), and which candidates learned nothing, i.e. whose clean
 * accuracy is not above chance (1/classes) by its standard error (the page, `runs front`, the CSV
 * export). Pure functions, no I/O; the dashboard bundles this file.
 */
import type { EvaluationRecord } from './records.js';
import { objectiveLabel } from './objectives.js';
import type { SearchConfig } from './search-config.js';

/** One line of a run's configuration: a stable key, a label and the value as text. */
export interface ConfigFact {
  readonly key: string;
  readonly label: string;
  readonly value: string;
}

/** Classes of the built-in data sets (a data set not listed here has no known chance level). */
export const DATASET_CLASSES: Readonly<Record<string, number>> = {
  mnist: 10,
  'fashion-mnist': 10,
  cifar10: 10,
  synthetic: 10,
};

function attackText(a: SearchConfig['evaluation']['attacks'][number]): string {
  const iterative = a.name === 'pgd' || a.name === 'apgd-ce';
  const steps = iterative
    ? `, ${a.steps} step${a.steps === 1 ? '' : 's'}${a.restarts > 1 ? `, ${a.restarts} restarts` : ''}`
    : '';
  const alpha = a.alpha !== undefined ? `, step size ${a.alpha}` : '';
  return `${a.name.toUpperCase()} ε=${a.eps}${steps}${alpha}`;
}

/**
 * The run's configuration as it was stored (every field a search config holds that changes what is
 * searched): name, data set, network size, training, attacks, seeds and resampling, evaluator,
 * population and generations, objectives.
 */
export function configFacts(config: SearchConfig): ConfigFact[] {
  const e = config.evaluation;
  const { initialSeeds, maxSeeds } = config.resampling;
  const facts: ConfigFact[] = [
    { key: 'name', label: 'name', value: config.name ?? '(none)' },
    {
      key: 'evaluator',
      label: 'evaluator',
      value:
        config.evaluator === 'surrogate'
          ? 'surrogate (a stand-in computed from the genotype: surrogate scores, not accuracies)'
          : 'real (each candidate trained and attacked)',
    },
    { key: 'dataset', label: 'data set', value: e.dataset },
    {
      key: 'network',
      label: 'network',
      value: `${e.channels} channels, ${e.layers} cells, ${config.nodes} nodes per cell`,
    },
    {
      key: 'training',
      label: 'training',
      value:
        `${e.epochs} epoch${e.epochs === 1 ? '' : 's'} on ${e.trainSize} images, batch ${e.batchSize}, ` +
        `lr ${e.learningRate}${e.adversarialTraining !== 'none' ? `, ${e.adversarialTraining} adversarial training` : ''}`,
    },
    {
      key: 'scored',
      label: 'scored on',
      value: `${e.split === 'val' ? e.valSize : e.testSize} ${e.split === 'val' ? 'validation' : 'test'} images`,
    },
    { key: 'attacks', label: 'attacks', value: e.attacks.map(attackText).join('; ') },
    {
      key: 'objectives',
      label: 'objectives',
      value: config.objectives.map((o) => `${o.direction} ${objectiveLabel(o)}`).join(', '),
    },
    {
      key: 'seeds',
      label: 'seeds',
      value:
        `search seed ${config.seed}; ${initialSeeds} seed${initialSeeds === 1 ? '' : 's'} per new candidate` +
        (maxSeeds > initialSeeds ? `, up to ${maxSeeds} per survivor` : ''),
    },
    {
      key: 'population',
      label: 'population',
      value: `${config.population}${config.offspring !== config.population ? ` (${config.offspring} offspring)` : ''}, ${config.strategy}`,
    },
    {
      key: 'generations',
      label: 'generations',
      value: `${config.generations} (numbered 0 to ${config.generations - 1})`,
    },
  ];
  if (config.evaluator === 'surrogate' && config.surrogateDelayMs > 0) {
    facts.push({
      key: 'delay',
      label: 'surrogate delay',
      value: `${config.surrogateDelayMs} ms per evaluation`,
    });
  }
  return facts;
}

/** A candidate's clean accuracy over its seeds, against chance. */
export interface ChanceCheck {
  /** The candidate's place (index of its first finished evaluation). */
  readonly index: number;
  readonly hash: string;
  /** Mean clean accuracy over the finished seeds. */
  readonly clean: number;
  /** Its standard error: between seeds, and never less than one evaluation's binomial error. */
  readonly stderr: number;
  /** Images each clean accuracy was measured on. */
  readonly n: number;
  readonly seeds: number;
  /** 1 / classes. */
  readonly chance: number;
  /** True when `clean - chance` is not larger than `stderr`: the network learned nothing we can see. */
  readonly atChance: boolean;
}

/**
 * The chance check of every candidate of a real run (one per genotype, over its finished seeds;
 * cached copies of a seed count once). Empty for a surrogate run (its scores are not accuracies) and
 * for a data set whose number of classes is unknown.
 */
export function chanceChecks(
  config: Pick<SearchConfig, 'evaluator' | 'evaluation'>,
  records: readonly EvaluationRecord[],
): ChanceCheck[] {
  const classes = DATASET_CLASSES[config.evaluation.dataset];
  if (config.evaluator === 'surrogate' || classes === undefined) return [];
  const chance = 1 / classes;
  const byHash = new Map<string, { index: number; seeds: Map<number, EvaluationRecord> }>();
  for (const r of [...records].sort((a, b) => a.index - b.index)) {
    if (r.status !== 'finished' || !r.scores || r.scores.surrogate) continue;
    const c = byHash.get(r.hash) ?? { index: r.index, seeds: new Map() };
    const seed = r.seedIndex ?? 0;
    if (!c.seeds.has(seed)) c.seeds.set(seed, r);
    byHash.set(r.hash, c);
  }
  const out: ChanceCheck[] = [];
  for (const [hash, c] of byHash) {
    const cleans = [...c.seeds.values()].map((r) => r.scores!.clean);
    const k = cleans.length;
    const mean = cleans.reduce((s, x) => s + x.accuracy, 0) / k;
    const sd =
      k > 1 ? Math.sqrt(cleans.reduce((s, x) => s + (x.accuracy - mean) ** 2, 0) / (k - 1)) : 0;
    const n = cleans[0]!.n;
    const binomial = n > 0 ? Math.sqrt(Math.max(0, mean * (1 - mean)) / n) : 0;
    const stderr = Math.max(sd / Math.sqrt(k), binomial);
    out.push({
      index: c.index,
      hash,
      clean: mean,
      stderr,
      n,
      seeds: k,
      chance,
      atChance: mean - chance <= stderr,
    });
  }
  return out;
}

/** How many of a run's candidates are at chance, and whether that is most of them. */
export interface ChanceSummary {
  readonly candidates: number;
  readonly atChance: number;
  readonly chance: number;
  /** More than half of the candidates are at chance. */
  readonly most: boolean;
}

export function chanceSummary(checks: readonly ChanceCheck[]): ChanceSummary | undefined {
  if (checks.length === 0) return undefined;
  const atChance = checks.filter((c) => c.atChance).length;
  return {
    candidates: checks.length,
    atChance,
    chance: checks[0]!.chance,
    most: atChance * 2 > checks.length,
  };
}

/** The warning a run where most candidates are at chance gets (page banner, CLI line). */
export function chanceWarning(s: ChanceSummary): string {
  return (
    `${s.atChance} of ${s.candidates} candidates have a clean accuracy not above chance ` +
    `(${(s.chance * 100).toFixed(0)}%) by its standard error: these networks learned nothing ` +
    `measurable, so their robustness means nothing either. Train longer or on more images ` +
    `(epochs, images), or check the data.`
  );
}
