/**
 * Generations as users read them. Runs store and emit generations counted from 0 (the initial
 * population is generation 0 in run.json, events and the API); everything shown to a person (the
 * CLI, the dashboard, reports) counts from 1, through these functions, so that "generation 3 of 10"
 * means the same thing on the terminal and on the page.
 */

/** The number a person reads for a stored (0-based) generation. */
export function generationNumber(stored: number): number {
  return stored + 1;
}

/** "generation 3" or, with the run's number of generations, "generation 3 of 10". */
export function generationLabel(stored: number, total?: number): string {
  const n = generationNumber(stored);
  return total === undefined ? `generation ${n}` : `generation ${n} of ${total}`;
}
