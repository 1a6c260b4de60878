/**
 * The ZDT1-3 benchmark problems (Zitzler, Deb & Thiele 2000), 30 variables in [0, 1], two objectives
 * minimised. They validate the NSGA-II engine against pymoo's published hypervolumes.
 */
import type { Box } from './real-operators.js';

export interface RealProblem {
  readonly name: string;
  readonly box: Box;
  evaluate(x: readonly number[]): [number, number];
}

function g(x: readonly number[]): number {
  let s = 0;
  for (let k = 1; k < x.length; k++) s += x[k]!;
  return 1 + (9 * s) / (x.length - 1);
}

function unitBox(n: number): Box {
  return { lower: new Array<number>(n).fill(0), upper: new Array<number>(n).fill(1) };
}

export function zdt1(n = 30): RealProblem {
  return {
    name: 'ZDT1',
    box: unitBox(n),
    evaluate: (x) => {
      const f1 = x[0]!;
      const gx = g(x);
      return [f1, gx * (1 - Math.sqrt(f1 / gx))];
    },
  };
}

export function zdt2(n = 30): RealProblem {
  return {
    name: 'ZDT2',
    box: unitBox(n),
    evaluate: (x) => {
      const f1 = x[0]!;
      const gx = g(x);
      return [f1, gx * (1 - Math.pow(f1 / gx, 2))];
    },
  };
}

export function zdt3(n = 30): RealProblem {
  return {
    name: 'ZDT3',
    box: unitBox(n),
    evaluate: (x) => {
      const f1 = x[0]!;
      const gx = g(x);
      return [f1, gx * (1 - Math.sqrt(f1 / gx) - (f1 / gx) * Math.sin(10 * Math.PI * f1))];
    },
  };
}
