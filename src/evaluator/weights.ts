/**
 * Saves and loads a model's weights (trainable and state variables) as one file:
 *   8 bytes magic "RNASWGT1" | uint32 LE header length | JSON header | float32 LE data.
 * The header lists every tensor (group, name, shape, offset) and optional metadata (for instance
 * the architecture spec, so a run can rebuild the network). Loading checks the magic, the header
 * (zod), and that every tensor matches the model's in count, name (when both know names), shape
 * and byte length, and fails with an InputError naming the first mismatch.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { Model } from './model.js';
import { formatIssues } from '../core/issues.js';

const MAGIC = 'RNASWGT1';

const headerSchema = z.object({
  format: z.literal('robust-nas-weights'),
  version: z.literal(1),
  tensors: z.array(
    z.object({
      group: z.enum(['trainable', 'state']),
      name: z.string(),
      shape: z.array(z.number().int().nonnegative()),
      offset: z.number().int().nonnegative(),
    }),
  ),
  meta: z.unknown().optional(),
});
export type WeightsHeader = z.infer<typeof headerSchema>;

function entries(model: Model) {
  const names = model.variableNames;
  return [
    ...model.trainableVariables.map((v, i) => ({
      group: 'trainable' as const,
      name: names?.trainable[i] ?? `trainable.${i}`,
      variable: v,
    })),
    ...model.stateVariables.map((v, i) => ({
      group: 'state' as const,
      name: names?.state[i] ?? `state.${i}`,
      variable: v,
    })),
  ];
}

/** Serialises the model's weights (and optional JSON metadata) to bytes. */
export async function encodeWeights(model: Model, meta?: unknown): Promise<Buffer> {
  const list = entries(model);
  let offset = 0;
  const tensors = list.map((e) => {
    const t = { group: e.group, name: e.name, shape: [...e.variable.shape], offset };
    offset += e.variable.size * 4;
    return t;
  });
  const header: WeightsHeader = { format: 'robust-nas-weights', version: 1, tensors, meta };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(MAGIC.length + 4 + json.length + offset);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  const base = MAGIC.length + 4 + json.length;
  for (let i = 0; i < list.length; i++) {
    const data = (await (list[i] as (typeof list)[number]).variable.data()) as Float32Array;
    const at = base + (tensors[i] as (typeof tensors)[number]).offset;
    for (let k = 0; k < data.length; k++) out.writeFloatLE(data[k] as number, at + 4 * k);
  }
  return out;
}

/** Reads and validates the header of encoded weights. */
export function decodeWeightsHeader(
  bytes: Buffer,
  source = 'weights',
): { header: WeightsHeader; base: number } {
  if (bytes.length < MAGIC.length + 4 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new InputError(`${source}: not a robust-nas weights file (bad magic)`);
  }
  const length = bytes.readUInt32LE(MAGIC.length);
  const base = MAGIC.length + 4 + length;
  if (base > bytes.length) throw new InputError(`${source}: truncated header`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, base));
  } catch {
    throw new InputError(`${source}: header is not valid JSON`);
  }
  const r = headerSchema.safeParse(parsed);
  if (!r.success) {
    throw new InputError(`${source}: invalid header: ${formatIssues(r.error, { max: 1 })}`);
  }
  return { header: r.data, base };
}

/** Assigns encoded weights to the model after checking they fit it exactly. */
export function decodeWeightsInto(model: Model, bytes: Buffer, source = 'weights'): WeightsHeader {
  const { header, base } = decodeWeightsHeader(bytes, source);
  const list = entries(model);
  if (header.tensors.length !== list.length) {
    throw new InputError(
      `${source}: holds ${header.tensors.length} tensors, the model has ${list.length}`,
    );
  }
  const values: Float32Array[] = [];
  list.forEach((e, i) => {
    const t = header.tensors[i] as WeightsHeader['tensors'][number];
    const want = e.variable.shape.join('x');
    if (t.group !== e.group || (model.variableNames && t.name !== e.name)) {
      throw new InputError(
        `${source}: tensor ${i} is ${t.group} '${t.name}', the model expects ${e.group} '${e.name}'`,
      );
    }
    if (t.shape.join('x') !== want) {
      throw new InputError(
        `${source}: tensor '${t.name}' has shape ${t.shape.join('x')}, the model expects ${want}`,
      );
    }
    const start = base + t.offset;
    const end = start + e.variable.size * 4;
    if (end > bytes.length) throw new InputError(`${source}: truncated data at tensor '${t.name}'`);
    const v = new Float32Array(e.variable.size);
    for (let k = 0; k < v.length; k++) v[k] = bytes.readFloatLE(start + 4 * k);
    values.push(v);
  });
  list.forEach((e, i) => {
    tf.tidy(() => e.variable.assign(tf.tensor(values[i] as Float32Array, e.variable.shape)));
  });
  return header;
}

/** Writes encoded weights crash-safely (temp file + rename): a kill leaves the old file or the new. */
export async function writeWeightsFile(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes, { flush: true });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Encodes the model's weights and writes them with {@link writeWeightsFile}. */
export async function saveWeights(model: Model, file: string, meta?: unknown): Promise<void> {
  await writeWeightsFile(file, await encodeWeights(model, meta));
}

/** Loads weights saved by saveWeights into `model`; returns the file's header (with its meta). */
export async function loadWeights(model: Model, file: string): Promise<WeightsHeader> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError(`cannot read weights file ${file}: ${(err as Error).message}`);
  }
  return decodeWeightsInto(model, bytes, file);
}
