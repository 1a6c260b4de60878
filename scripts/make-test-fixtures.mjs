#!/usr/bin/env node
/**
 * Builds the real-data test fixtures in tests/fixtures/datasets/ from the canonical files: the first
 * records of Fashion-MNIST (IDX, gzip) and of CIFAR-10 (binary batches), in their original formats
 * and laid out as a data root, so that the loaders' own code reads them (`--data-dir
 * tests/fixtures/datasets`). Writes README.md beside them with their provenance and checksums.
 *
 *   node scripts/make-test-fixtures.mjs [DATA_ROOT]
 *
 * DATA_ROOT holds fashion-mnist/ and cifar-10/cifar-10-batches-bin/ (default: $ROBUST_NAS_DATA, else
 * ../shared/datasets beside the repository). The output is the same byte for byte on every run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'tests', 'fixtures', 'datasets');
/** Records taken from the start of each canonical file. */
const TRAIN = 1000;
const TEST = 500;
const CIFAR_RECORD = 1 + 3 * 32 * 32;

/** md5 of the canonical Fashion-MNIST files (as in src/evaluator/datasets/registry.ts). */
const FASHION_MD5 = {
  'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
};

const source = resolve(
  process.argv[2] ?? process.env.ROBUST_NAS_DATA ?? join(ROOT, '..', 'shared', 'datasets'),
);
const hash = (algorithm, bytes) => createHash(algorithm).update(bytes).digest('hex');

/** The first `count` items of an IDX file (gzip), with the header's count rewritten. */
function sliceIdx(bytes, count, name) {
  const plain = gunzipSync(bytes);
  const dims = plain[3];
  const header = 4 + 4 * dims;
  const total = plain.readUInt32BE(4);
  let item = 1;
  for (let d = 1; d < dims; d++) item *= plain.readUInt32BE(4 + 4 * d);
  if (count > total) throw new Error(`${name}: holds ${total} items, asked for ${count}`);
  const out = Buffer.from(plain.subarray(0, header + count * item));
  out.writeUInt32BE(count, 4);
  return { bytes: gzipSync(out, { level: 9 }), labels: dims === 1 ? out.subarray(header) : null };
}

const classCounts = (labels) => {
  const counts = new Array(10).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
};

rmSync(OUT, { recursive: true, force: true });
const written = [];
const write = (path, bytes, from) => {
  const file = join(OUT, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  written.push({ path, bytes, ...from });
};

for (const [name, expected] of Object.entries(FASHION_MD5)) {
  const file = join(source, 'fashion-mnist', name);
  const bytes = readFileSync(file);
  const md5 = hash('md5', bytes);
  if (md5 !== expected) throw new Error(`${file}: md5 ${md5}, expected the canonical ${expected}`);
  const count = name.startsWith('train') ? TRAIN : TEST;
  const slice = sliceIdx(bytes, count, file);
  write(`fashion-mnist/${name}`, slice.bytes, {
    source: `fashion-mnist/${name}`,
    sourceSha256: hash('sha256', bytes),
    sourceMd5: md5,
    records: count,
    labels: slice.labels,
  });
}

const cifarDir = join(source, 'cifar-10', 'cifar-10-batches-bin');
for (const [name, count] of [
  ['data_batch_1.bin', TRAIN],
  ['test_batch.bin', TEST],
]) {
  const bytes = readFileSync(join(cifarDir, name));
  if (bytes.length !== 10_000 * CIFAR_RECORD) {
    throw new Error(`${join(cifarDir, name)}: ${bytes.length} bytes, not a canonical batch`);
  }
  const slice = bytes.subarray(0, count * CIFAR_RECORD);
  const labels = Buffer.from(Array.from({ length: count }, (_, r) => slice[r * CIFAR_RECORD]));
  write(`cifar-10/cifar-10-batches-bin/${name}`, slice, {
    source: `cifar-10/cifar-10-batches-bin/${name}`,
    sourceSha256: hash('sha256', bytes),
    records: count,
    labels,
  });
}
const meta = readFileSync(join(cifarDir, 'batches.meta.txt'));
write('cifar-10/cifar-10-batches-bin/batches.meta.txt', meta, {
  source: 'cifar-10/cifar-10-batches-bin/batches.meta.txt',
  sourceSha256: hash('sha256', meta),
});

const lines = [
  '# Real-data test fixtures',
  '',
  'Small slices of two real data sets, in their original formats and laid out as a data root, so that',
  "the loaders' own code reads them (`robust-nas evaluate --data-dir tests/fixtures/datasets ...`).",
  'Each file holds the first records of the canonical file it comes from, unchanged (an IDX slice is',
  "its file's header with the count rewritten, then the first records, gzipped again at level 9; a",
  'CIFAR-10 slice is the first whole records). MNIST needs no fixture: `data/mnist` ships its official',
  'test set. These files are for the tests only and are not in the published package.',
  '',
  `Built by \`node scripts/make-test-fixtures.mjs DATA_ROOT\` (deterministic: the same bytes on every run)`,
  'from copies of the canonical files whose checksums are given below.',
  '',
  'Sources:',
  '',
  '- Fashion-MNIST (Zalando SE, MIT licence): `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,',
  '  `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz` from',
  '  `http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/`.',
  '- CIFAR-10 (A. Krizhevsky, 2009): `data_batch_1.bin`, `test_batch.bin` and `batches.meta.txt` of',
  '  `cifar-10-batches-bin/` in `https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz`',
  '  (md5 `c32a1d4ab5d03f1284b67883e8d87530`).',
  '',
  'Files (labels: images per class 0..9):',
  '',
];
for (const w of written) {
  const what =
    w.records !== undefined ? `records 0..${w.records - 1} (the first ${w.records})` : 'whole file';
  lines.push(`- \`${w.path}\``);
  lines.push(`  - from: \`${w.source}\`, ${what}`);
  lines.push(
    `  - source checksums: sha256 \`${w.sourceSha256}\`${w.sourceMd5 ? `, md5 \`${w.sourceMd5}\` (canonical)` : ''}`,
  );
  lines.push(`  - size: ${w.bytes.length} bytes, sha256 \`${hash('sha256', w.bytes)}\``);
  if (w.labels)
    lines.push(
      `  - labels: ${classCounts(w.labels).join(', ')}; first ten: ${[...w.labels.subarray(0, 10)].join(', ')}`,
    );
}
lines.push('');
writeFileSync(join(OUT, 'README.md'), lines.join('\n'));
process.stdout.write(
  `wrote ${written.length} fixtures and README.md to ${relative(ROOT, OUT)} from ${source}\n`,
);
