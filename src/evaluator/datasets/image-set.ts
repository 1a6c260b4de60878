/** Images held as bytes (NHWC, 0..255) with their labels; converted to [0, 1] tensors per batch. */
export interface ImageSet {
  /** count * height * width * channels bytes, NHWC order. */
  readonly images: Uint8Array;
  /** One class index per image. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** The images at `indices`, in that order, as a new set. */
export function selectImages(set: ImageSet, indices: readonly number[]): ImageSet {
  const size = set.height * set.width * set.channels;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, k) => {
    if (!Number.isInteger(index) || index < 0 || index >= set.count) {
      throw new RangeError(`image index ${index} outside 0..${set.count - 1}`);
    }
    images.set(set.images.subarray(index * size, (index + 1) * size), k * size);
    labels[k] = set.labels[index] as number;
  });
  return {
    images,
    labels,
    count: indices.length,
    height: set.height,
    width: set.width,
    channels: set.channels,
  };
}

/** Several sets of the same image shape, one after the other. */
export function concatImages(sets: readonly ImageSet[]): ImageSet {
  const first = sets[0];
  if (!first) throw new RangeError('concatImages needs at least one set');
  const count = sets.reduce((n, s) => n + s.count, 0);
  const images = new Uint8Array(sets.reduce((n, s) => n + s.images.length, 0));
  const labels = new Uint8Array(count);
  let offset = 0;
  let at = 0;
  for (const s of sets) {
    images.set(s.images, offset);
    labels.set(s.labels, at);
    offset += s.images.length;
    at += s.count;
  }
  return {
    images,
    labels,
    count,
    height: first.height,
    width: first.width,
    channels: first.channels,
  };
}
