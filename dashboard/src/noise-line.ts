/**
 * How far the shown run's figures can be trusted: per objective, the reliability of a candidate's
 * mean at the seeds its re-evaluated survivors have (core's run-noise estimate), e.g.
 * "PGD ε=0.1 accuracy: reliability 0.62 at 3 seeds", or why there is no estimate yet.
 */
import { viewNoise, type RunView } from '../../src/core/run-view.js';
import type { ObjectiveAxis } from './objective-axes.js';

/** One line per objective (or one saying why there is none). */
export function noiseLines(view: RunView, axes: readonly ObjectiveAxis[]): string[] {
  const { initialSeeds, maxSeeds } = view.run.config.resampling;
  if (maxSeeds <= 1)
    return ['one seed per candidate: no noise estimate (the run re-evaluates nothing)'];
  const noise = viewNoise(view);
  if (noise.objectives.length === 0) {
    return [
      `${noise.reason ?? 'no noise estimate yet'} (up to ${maxSeeds} seeds per survivor, ${initialSeeds} per new candidate)`,
    ];
  }
  const seeds = +noise.seeds.toFixed(1);
  return noise.objectives.map((o, k) => {
    const name = axes[k]?.title.replace(/ \((max|min)\)$/, '') ?? o.objective;
    return `${name}: reliability ${o.reliability.toFixed(2)} at ${seeds} seeds (ICC ${o.icc.toFixed(2)}, ${noise.reevaluated} re-evaluated survivors)`;
  });
}
