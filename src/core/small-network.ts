/**
 * Training settings of a small network (4 channels, 3 cells, 4000 training images, 2 epochs, scored
 * on 500 validation images): used by the demo search and by real runs started from the dashboard.
 * Plain data (the dashboard bundles it). Aimed at the first candidate of `npm start` within a minute
 * on an idle 2-core CPU; measured only on a busy one: 111 s (82 s training, 29 s attack) with load
 * average 15 on the 2 cores.
 *
 * Chosen with `robust-nas noise` (README, "Noise and the defaults"; raw reports in bench/noise/):
 * 3 cells so that a normal cell is built (with 2, both cells are reduction cells); 4000 images for
 * 2 epochs rather than 2000 for 4 (the same training cost) halved the seed noise of PGD accuracy
 * (within-genotype sd 0.21 -> 0.10 at eps 0.05) and raised its ICC from below 0 to 0.17; 500
 * validation images rather than 200 halve the counting noise of each accuracy.
 */
export const SMALL_NETWORK = {
  channels: 4,
  layers: 3,
  epochs: 2,
  batchSize: 32,
  learningRate: 0.1,
  trainSize: 4000,
  valSize: 500,
  testSize: 500,
} as const;
