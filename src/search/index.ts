export * from './genotype.js';
export * from './rng.js';
export * from './evaluation.js';
export * from './events.js';
