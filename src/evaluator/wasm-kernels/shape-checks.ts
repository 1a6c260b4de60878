/** Shape assertions shared by our wasm kernels. */
export function checkOutputShape(
  kernelName: string,
  actual: readonly number[],
  expected: readonly number[],
): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i]))
    throw new Error(
      `${kernelName}: dy has shape [${actual.join(',')}] but the convolution produces [${expected.join(',')}]`,
    );
}
