import { describe, expect, it } from 'vitest';
import {
  dominates,
  validationFigures,
  type ObjectiveInput,
  type ValidationMemberInput,
} from '../../src/study/validation-report.js';

const OBJECTIVES: ObjectiveInput[] = [
  { name: 'clean', direction: 'max' },
  { name: 'pgd@0.1', direction: 'max', attacked: true },
];

/**
 * Three front members A, B, C, one other member D, two controls X, Y; two fresh seeds.
 * Validated means (clean, pgd):
 *   A: seeds (0.90, 0.50), (0.80, 0.40) -> (0.85, 0.45)
 *   B: (0.70, 0.60), (0.70, 0.50)       -> (0.70, 0.55)
 *   C: (0.60, 0.30), (0.60, 0.30)       -> (0.60, 0.30)
 *   D: (0.50, 0.20), (0.30, 0.20)       -> (0.40, 0.20)
 *   X: (0.50, 0.20), (0.40, 0.10)       -> (0.45, 0.15)
 *   Y: (0.30, 0.40), (0.20, 0.30)       -> (0.25, 0.35)
 */
const MEMBERS: ValidationMemberInput[] = [
  {
    hash: 'A',
    role: 'front',
    search: { mean: [0.9, 0.6], stderr: [0.02, 0.05], seeds: 3 },
    validated: [
      [0.9, 0.5],
      [0.8, 0.4],
    ],
    strong: [0.4, 0.3],
  },
  {
    hash: 'B',
    role: 'front',
    search: { mean: [0.75, 0.7], stderr: [0.05, 0.1], seeds: 2 },
    validated: [
      [0.7, 0.6],
      [0.7, 0.5],
    ],
  },
  {
    hash: 'C',
    role: 'front',
    search: { mean: [0.95, 0.2], stderr: [0.01, 0.05], seeds: 1 },
    validated: [
      [0.6, 0.3],
      [0.6, 0.3],
    ],
  },
  {
    hash: 'D',
    role: 'member',
    search: { mean: [0.5, 0.1], stderr: [0.05, 0.05], seeds: 2 },
    validated: [
      [0.5, 0.2],
      [0.3, 0.2],
    ],
  },
  {
    hash: 'X',
    role: 'control',
    search: null,
    validated: [
      [0.5, 0.2],
      [0.4, 0.1],
    ],
  },
  {
    hash: 'Y',
    role: 'control',
    search: null,
    validated: [
      [0.3, 0.4],
      [0.2, 0.3],
    ],
  },
];

describe('validation figures (hand-computed)', () => {
  const f = validationFigures(OBJECTIVES, MEMBERS);
  const [clean, pgd] = f.objectives;

  it('validated means, standard errors and the validated front', () => {
    const a = f.members[0]!;
    expect(a.validated.mean[0]).toBeCloseTo(0.85, 12);
    expect(a.validated.mean[1]).toBeCloseTo(0.45, 12);
    // sd of (0.9, 0.8) = 0.0707..., / sqrt(2) = 0.05
    expect(a.validated.stderr[0]).toBeCloseTo(0.05, 12);
    expect(a.validated.seeds).toBe(2);
    // A (0.85, 0.45) and B (0.70, 0.55) are non-dominated; C, D, X, Y are dominated by A or B
    // (Y 0.25/0.35 by B; X 0.45/0.15 by A).
    expect(f.validatedFront).toEqual(['A', 'B']);
  });

  it('Spearman over the search members (A, B, C, D; never the controls)', () => {
    // clean: search 0.9, 0.75, 0.95, 0.5 -> ranks 3, 2, 4, 1; validated 0.85, 0.7, 0.6, 0.4 -> 4, 3, 2, 1
    // d = -1, -1, 2, 0: rho = 1 - 6*6/(4*15) = 0.4
    expect(clean!.spearman).toBeCloseTo(0.4, 12);
    expect(clean!.spearmanMembers).toBe(4);
    // pgd: search 0.6, 0.7, 0.2, 0.1 -> 3, 4, 2, 1; validated 0.45, 0.55, 0.3, 0.2 -> 3, 4, 2, 1: rho = 1
    expect(pgd!.spearman).toBeCloseTo(1, 12);
  });

  it('optimism of the front members (search minus validated, maximised objectives)', () => {
    // clean: 0.9-0.85 = 0.05, 0.75-0.7 = 0.05, 0.95-0.6 = 0.35: mean 0.15,
    // sd = sqrt(((−0.1)² + (−0.1)² + 0.2²)/2) = sqrt(0.03) = 0.173205; stderr = 0.1
    expect(clean!.optimism!.mean).toBeCloseTo(0.15, 12);
    expect(clean!.optimism!.stderr).toBeCloseTo(0.1, 12);
    expect(clean!.optimism!.n).toBe(3);
    // pgd: 0.15, 0.15, -0.1: mean 0.0666...
    expect(pgd!.optimism!.mean).toBeCloseTo(0.2 / 3, 12);
  });

  it('coverage: validated mean inside the search-time 95% interval', () => {
    // clean: A |0.85-0.9| = 0.05 > 1.96*0.02 = 0.039: out; B 0.05 <= 0.098: in; C 0.35: out;
    // D |0.4-0.5| = 0.1 > 0.098: out -> 1 of 4
    expect(clean!.coverage).toEqual({ share: 0.25, inside: 1, total: 4 });
    // pgd: A 0.15 > 0.098 out; B 0.15 < 0.196 in; C 0.1 > 0.098 out; D 0.1 > 0.098 out -> 1 of 4
    expect(pgd!.coverage).toEqual({ share: 0.25, inside: 1, total: 4 });
  });

  it('front minus controls, paired by seed', () => {
    // clean seed 0: front (0.9+0.7+0.6)/3 = 0.7333, controls (0.5+0.3)/2 = 0.4: +0.3333
    // clean seed 1: front (0.8+0.7+0.6)/3 = 0.7, controls 0.3: +0.4. mean 0.36667, stderr 0.03333
    const d = clean!.frontMinusControls!;
    expect(d.mean).toBeCloseTo(0.3666666667, 9);
    expect(d.stderr).toBeCloseTo(0.0333333333, 9);
    expect(d.n).toBe(2);
    // t(0.975, 1) = 12.706: interval 0.36667 +- 0.42353 includes 0
    expect(d.ci95[0]).toBeCloseTo(0.3666666667 - 12.706 * 0.0333333333, 3);
    expect(d.better).toBe(false);
  });

  it('order and dominance kept', () => {
    // Search-time dominance among A(0.9,0.6) B(0.75,0.7) C(0.95,0.2) D(0.5,0.1):
    // A>D, B>D, C>D: 3 pairs. Validated A(0.85,0.45) B(0.7,0.55) C(0.6,0.3) D(0.4,0.2): all kept.
    expect(f.dominanceKept).toEqual({ kept: 3, total: 3 });
    // clean order pairs: 6 (4 distinct values); validated order: C<A, C<B flipped (search C best):
    // pairs (i better than j at search): C>A, C>B, C>D, A>B, A>D, B>D; kept: C>D, A>B, A>D, B>D = 4
    expect(clean!.orderKept).toEqual({ kept: 4, total: 6 });
  });

  it('the strong suite per member and its drop from PGD', () => {
    const a = f.members[0]!;
    expect(a.strong!.mean).toBeCloseTo(0.35, 12);
    expect(a.strongDrop).toBeCloseTo(0.45 - 0.35, 12);
    expect(f.members[1]!.strong).toBeNull();
    expect(f.members[1]!.strongDrop).toBeNull();
  });

  it('minimised objectives: optimism signed so that positive means over-promised', () => {
    const g = validationFigures(
      [{ name: 'params', direction: 'min' }],
      [
        {
          hash: 'P',
          role: 'front',
          search: { mean: [10], stderr: [1], seeds: 2 },
          validated: [[12], [14]],
        },
      ],
    );
    expect(g.objectives[0]!.optimism!.mean).toBeCloseTo(3, 12);
  });

  it('failed evaluations are left out of means; none at all leaves the member off every figure', () => {
    const g = validationFigures(OBJECTIVES, [
      { ...MEMBERS[0]!, validated: [null, [0.8, 0.4]] },
      { ...MEMBERS[1]!, validated: [null, null] },
    ]);
    expect(g.members[0]!.validated).toEqual({ mean: [0.8, 0.4], stderr: [0, 0], seeds: 1 });
    expect(g.members[1]!.validated.seeds).toBe(0);
    expect(g.objectives[0]!.coverage!.total).toBe(1);
    expect(g.validatedFront).toEqual(['A']);
  });

  it('dominates', () => {
    expect(dominates([1, 1], [0, 1], ['max', 'max'])).toBe(true);
    expect(dominates([1, 1], [1, 1], ['max', 'max'])).toBe(false);
    expect(dominates([1, 2], [0, 1], ['max', 'min'])).toBe(false);
  });
});
