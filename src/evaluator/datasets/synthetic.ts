/**
 * A small generated data set for fast tests: 16x16 grey images in 10 classes. Each class has a fixed
 * random prototype (smooth blobs); an image is its class prototype with random contrast, shift by at
 * most one pixel and pixel noise, clamped to [0, 1]. Fully determined by (pool, count).
 */
import { Rng } from '../../core/rng.js';
import type { ImageSet } from './image-set.js';
import { SYNTHETIC } from './registry.js';

const [H, W] = SYNTHETIC.shape;
const CLASSES = SYNTHETIC.numClasses;

function prototypes(): Float32Array[] {
  const rng = Rng.fromSeed('robust-nas synthetic prototypes');
  const out: Float32Array[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const img = new Float32Array(H * W);
    for (let b = 0; b < 3; b++) {
      const cy = rng.uniform(2, H - 2);
      const cx = rng.uniform(2, W - 2);
      const r = rng.uniform(2, 4);
      const sign = b === 2 ? -0.5 : 1;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const d2 = ((y - cy) ** 2 + (x - cx) ** 2) / (r * r);
          img[y * W + x] = (img[y * W + x] as number) + sign * Math.exp(-d2);
        }
      }
    }
    out.push(img);
  }
  return out;
}

/** `count` images of the 'train' or 'test' pool; the first k images do not depend on `count`. */
export function syntheticImages(pool: 'train' | 'test', count: number): ImageSet {
  const protos = prototypes();
  const rng = Rng.fromSeed(`robust-nas synthetic ${pool}`);
  const images = new Uint8Array(count * H * W);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = rng.int(CLASSES);
    labels[i] = label;
    const proto = protos[label] as Float32Array;
    const contrast = rng.uniform(0.6, 1);
    const dy = rng.int(3) - 1;
    const dx = rng.int(3) - 1;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sy = Math.min(H - 1, Math.max(0, y + dy));
        const sx = Math.min(W - 1, Math.max(0, x + dx));
        const v = 0.25 + 0.5 * contrast * (proto[sy * W + sx] as number) + 0.1 * rng.normal();
        images[i * H * W + y * W + x] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  }
  return { images, labels, count, height: H, width: W, channels: 1 };
}
