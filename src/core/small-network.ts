/**
 * Training settings of a small network that the real evaluator scores in well under a minute on a
 * 2-core CPU (4 channels, 2 cells, 2000 training images, 4 epochs): used by the demo search and by
 * real runs started from the dashboard. Plain data (the dashboard bundles it).
 */
export const SMALL_NETWORK = {
  channels: 4,
  layers: 2,
  epochs: 4,
  batchSize: 32,
  learningRate: 0.1,
  trainSize: 2000,
  valSize: 200,
  testSize: 200,
} as const;
