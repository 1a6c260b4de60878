/** Helpers shared by scripts/kernel-bench.ts and scripts/train-profile.ts. */
import type * as tf from '@tensorflow/tfjs-core';

type KernelRecord = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

/** The value after `--name` on the command line, else `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** tf.profile's kernel calls grouped by `key` (default: kernel name), most time first, and their total time. */
export function kernelTimes(
  kernels: readonly KernelRecord[],
  key: (k: KernelRecord) => string = (k) => k.name,
): { rows: [string, { ms: number; calls: number }][]; total: number } {
  const groups = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const e = groups.get(key(k)) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.calls++;
    groups.set(key(k), e);
  }
  const rows = [...groups.entries()].sort((a, b) => b[1].ms - a[1].ms);
  return { rows, total: rows.reduce((s, [, e]) => s + e.ms, 0) };
}
