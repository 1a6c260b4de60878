/**
 * An error caused by what the user gave us (a bad argument, genotype string, config or file).
 * The CLI prints its message on one line and exits with code 2.
 */
export class InputError extends Error {
  override name = 'InputError';
}
