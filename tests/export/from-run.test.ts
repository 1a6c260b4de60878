/** The network options an export takes from a data set. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { datasetNetworkOptions } from '../../src/export/from-run.js';

describe('datasetNetworkOptions', () => {
  it("gives a built-in data set's input shape, classes and normalisation", () => {
    expect(datasetNetworkOptions('cifar10')).toEqual({
      inputShape: [32, 32, 3],
      numClasses: 10,
      normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
    });
  });

  it("refuses the user's own images (their normalisation is not stored with a run)", () => {
    for (const dataset of ['folder', 'npz'] as const) {
      expect(() => datasetNetworkOptions(dataset)).toThrow(InputError);
      expect(() => datasetNetworkOptions(dataset)).toThrow(/not supported yet/);
    }
  });
});
