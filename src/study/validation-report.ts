/**
 * The figures of `robust-nas validate`: how a search's ranking holds when its members (and random
 * controls from the same search space) are re-trained on fresh seeds. Pure functions of the
 * search-time estimates and the validated per-seed values; nothing here depends on timing.
 *
 * Every network is validated with the same fresh seeds (seed k of every network is the same training
 * seed), so differences between networks are paired by seed: the seed's common effect cancels.
 *
 * Per objective (in the run's objective order, each in its own direction):
 * - spearman: Spearman's rank correlation between search-time and validated means over the
 *   validated search members (front and, with `--members all`, the others; never the controls);
 * - optimism: mean over the search's front members of (search mean - validated mean), signed so
 *   that a positive value means the search promised better than the fresh seeds gave (for a
 *   minimised objective: validated - search); with its standard error over members;
 * - coverage: the share of search members whose validated mean lies inside their search-time 95%
 *   interval (mean +- 1.96 stderr);
 * - frontMinusControls: per fresh seed, mean of the front members minus mean of the controls (both
 *   on that seed), then mean, standard error and a t interval over seeds (better direction positive);
 * - orderKept: among pairs of search members that the search ordered on this objective, how many
 *   keep that order when validated.
 * Overall: dominanceKept (pairs where one member Pareto-dominated another at search time, and how
 * many still do when validated), and the validated front over members and controls.
 */
import { meanAndStderr } from '../core/noise-stats.js';
import { nonDominatedSort, type Direction } from '../core/non-dominated-sort.js';
import { spearman, tQuantile975 } from './statistics.js';

export type ValidationRole = 'front' | 'member' | 'control';

export interface ValidationMemberInput {
  readonly hash: string;
  readonly role: ValidationRole;
  /** The search's estimate (controls: null). Arrays in objective order. */
  readonly search: {
    readonly mean: readonly number[];
    readonly stderr: readonly number[];
    readonly seeds: number;
  } | null;
  /** Per fresh seed index, the objective values (null: that evaluation failed or is missing). */
  readonly validated: readonly (readonly number[] | null)[];
  /** Per fresh seed index, the strong suite's robust accuracy (null or absent: not run). */
  readonly strong?: readonly (number | null)[];
}

export interface ObjectiveInput {
  readonly name: string;
  readonly direction: Direction;
  /** True for the objective the strong suite is compared with (the run's first attack). */
  readonly attacked?: boolean;
}

export interface MeanWithError {
  readonly mean: number;
  readonly stderr: number;
  readonly n: number;
}

export interface ObjectiveFigures {
  readonly name: string;
  readonly direction: Direction;
  /** Over search members with a validated mean; null when fewer than 3 or a side is constant. */
  readonly spearman: number | null;
  readonly spearmanMembers: number;
  /** Over the search's front members; null when none was validated. */
  readonly optimism: MeanWithError | null;
  readonly coverage: {
    readonly share: number;
    readonly inside: number;
    readonly total: number;
  } | null;
  /** Paired by fresh seed; null without controls or with no seed shared by both. */
  readonly frontMinusControls:
    (MeanWithError & { readonly ci95: readonly [number, number]; readonly better: boolean }) | null;
  readonly orderKept: { readonly kept: number; readonly total: number };
  /** The overall Pareto-dominance figure (the same in every objective, for the JSON's readers). */
  readonly dominanceKept: { readonly kept: number; readonly total: number };
}

export interface MemberFigures {
  readonly hash: string;
  readonly role: ValidationRole;
  readonly search: {
    readonly mean: number[];
    readonly stderr: number[];
    readonly seeds: number;
  } | null;
  readonly validated: {
    readonly mean: number[];
    readonly stderr: number[];
    readonly seeds: number;
  };
  readonly strong: {
    readonly mean: number;
    readonly stderr: number;
    readonly seeds: number;
  } | null;
  /** Validated mean of the attacked objective minus the strong suite's mean (null without it). */
  readonly strongDrop: number | null;
  /** On the validated front (over members and controls). */
  readonly validatedFront: boolean;
}

export interface ValidationFigures {
  readonly objectives: ObjectiveFigures[];
  readonly members: MemberFigures[];
  readonly dominanceKept: { readonly kept: number; readonly total: number };
  /** Hashes of the validated front, in member order. */
  readonly validatedFront: string[];
}

const sign = (d: Direction) => (d === 'max' ? 1 : -1);

function present<T>(values: readonly (T | null | undefined)[]): T[] {
  return values.filter((v): v is T => v !== null && v !== undefined);
}

/** Mean and standard error over seeds of one network's validated values of objective k. */
function validatedOf(m: ValidationMemberInput, objectives: readonly ObjectiveInput[]) {
  const rows = present(m.validated);
  const mean: number[] = [];
  const stderr: number[] = [];
  if (rows.length > 0) {
    objectives.forEach((_, k) => {
      const s = meanAndStderr(rows.map((r) => r[k]!));
      mean.push(s.mean);
      stderr.push(s.stderr);
    });
  }
  return { mean, stderr, seeds: rows.length };
}

/** True when a dominates b (no worse on every objective, better on one), in the given directions. */
export function dominates(
  a: readonly number[],
  b: readonly number[],
  directions: readonly Direction[],
): boolean {
  let better = false;
  for (let k = 0; k < directions.length; k++) {
    const d = sign(directions[k]!) * (a[k]! - b[k]!);
    if (d < 0) return false;
    if (d > 0) better = true;
  }
  return better;
}

/** The figures above from the members' search-time estimates and validated values. */
export function validationFigures(
  objectives: readonly ObjectiveInput[],
  members: readonly ValidationMemberInput[],
): ValidationFigures {
  const directions = objectives.map((o) => o.direction);
  const validated = members.map((m) => validatedOf(m, objectives));
  const withValues = members.map((_, i) => i).filter((i) => validated[i]!.seeds > 0);

  // The validated front over every network with a validated mean.
  const frontSet = new Set<number>();
  if (withValues.length > 0) {
    const fronts = nonDominatedSort(
      withValues.map((i) => validated[i]!.mean),
      directions,
    );
    for (const k of fronts[0]!) frontSet.add(withValues[k]!);
  }

  // Search members with both estimates.
  const searched = withValues.filter((i) => members[i]!.search !== null);
  const front = searched.filter((i) => members[i]!.role === 'front');
  const controls = members.map((_, i) => i).filter((i) => members[i]!.role === 'control');

  let domKept = 0;
  let domTotal = 0;
  for (const i of searched) {
    for (const j of searched) {
      if (i === j) continue;
      if (dominates(members[i]!.search!.mean, members[j]!.search!.mean, directions)) {
        domTotal++;
        if (dominates(validated[i]!.mean, validated[j]!.mean, directions)) domKept++;
      }
    }
  }
  const dominanceKept = { kept: domKept, total: domTotal };

  const seedsCount = Math.max(0, ...members.map((m) => m.validated.length));

  const objectiveFigures = objectives.map((o, k): ObjectiveFigures => {
    const s = sign(o.direction);
    const searchMeans = searched.map((i) => members[i]!.search!.mean[k]!);
    const validMeans = searched.map((i) => validated[i]!.mean[k]!);
    const rho = searched.length >= 3 ? spearman(searchMeans, validMeans) : Number.NaN;

    const opt = front.map((i) => s * (members[i]!.search!.mean[k]! - validated[i]!.mean[k]!));
    const optimism = opt.length > 0 ? { ...meanAndStderr(opt), n: opt.length } : null;

    let inside = 0;
    for (const i of searched) {
      const { mean, stderr } = members[i]!.search!;
      if (Math.abs(validated[i]!.mean[k]! - mean[k]!) <= 1.96 * stderr[k]!) inside++;
    }
    const coverage =
      searched.length > 0
        ? { share: inside / searched.length, inside, total: searched.length }
        : null;

    // Paired by seed: per seed, front mean minus control mean (better direction positive).
    const diffs: number[] = [];
    if (controls.length > 0) {
      for (let seed = 0; seed < seedsCount; seed++) {
        const f = present(front.map((i) => members[i]!.validated[seed]?.[k]));
        const c = present(controls.map((i) => members[i]!.validated[seed]?.[k]));
        if (f.length > 0 && c.length > 0) {
          const mf = f.reduce((a, b) => a + b, 0) / f.length;
          const mc = c.reduce((a, b) => a + b, 0) / c.length;
          diffs.push(s * (mf - mc));
        }
      }
    }
    let frontMinusControls: ObjectiveFigures['frontMinusControls'] = null;
    if (diffs.length > 0) {
      const d = meanAndStderr(diffs);
      const t = diffs.length > 1 ? tQuantile975(diffs.length - 1) : Number.POSITIVE_INFINITY;
      const half = diffs.length > 1 ? t * d.stderr : Number.POSITIVE_INFINITY;
      const ci95: [number, number] = [d.mean - half, d.mean + half];
      frontMinusControls = { ...d, n: diffs.length, ci95, better: ci95[0] > 0 };
    }

    let orderKept = 0;
    let orderTotal = 0;
    for (const i of searched) {
      for (const j of searched) {
        const a = s * (members[i]!.search!.mean[k]! - members[j]!.search!.mean[k]!);
        if (a > 0) {
          orderTotal++;
          if (s * (validated[i]!.mean[k]! - validated[j]!.mean[k]!) > 0) orderKept++;
        }
      }
    }

    return {
      name: o.name,
      direction: o.direction,
      spearman: Number.isFinite(rho) ? rho : null,
      spearmanMembers: searched.length,
      optimism,
      coverage,
      frontMinusControls,
      orderKept: { kept: orderKept, total: orderTotal },
      dominanceKept,
    };
  });

  const attacked = objectives.findIndex((o) => o.attacked);
  const memberFigures = members.map((m, i): MemberFigures => {
    const v = validated[i]!;
    const strongValues = present(m.strong ?? []);
    const strong =
      strongValues.length > 0
        ? { ...meanAndStderr(strongValues), seeds: strongValues.length }
        : null;
    return {
      hash: m.hash,
      role: m.role,
      search: m.search
        ? { mean: [...m.search.mean], stderr: [...m.search.stderr], seeds: m.search.seeds }
        : null,
      validated: v,
      strong,
      strongDrop: strong && attacked >= 0 && v.seeds > 0 ? v.mean[attacked]! - strong.mean : null,
      validatedFront: frontSet.has(i),
    };
  });

  return {
    objectives: objectiveFigures,
    members: memberFigures,
    dominanceKept,
    validatedFront: memberFigures.filter((m) => m.validatedFront).map((m) => m.hash),
  };
}
