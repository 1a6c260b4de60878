/**
 * Published cells, each kept as the ORIGINAL Python text of its source repository (copied verbatim,
 * including the authors' whitespace) and parsed from that text, so that every published genotype is
 * used exactly as its authors wrote it.
 */
import { InputError } from './errors.js';
import type { Genotype } from './genotype.js';
import { parseGenotype } from './genotype-parse.js';
import { nearestName } from './genotype-validate.js';

export interface PublishedGenotype {
  readonly genotype: Genotype;
  /** Paper and the repository file the Python text is copied from. */
  readonly source: string;
  /** The original Python text, `NAME = Genotype(...)`. */
  readonly python: string;
}

const DARTS_REPO = 'github.com/quark0/darts, cnn/genotypes.py';
/** DARTS_V1/V2 as in DARTS's file; the text is the verbatim copy that PC-DARTS and P-DARTS ship. */
const DARTS_V_REPO = `${DARTS_REPO} (verbatim in github.com/yuhuixu1993/PC-DARTS, genotypes.py)`;

const SOURCES: Record<string, { source: string; python: string }> = {
  DARTS_V1: {
    source: `Liu, Simonyan, Yang: DARTS: Differentiable Architecture Search, ICLR 2019 (first-order); ${DARTS_V_REPO}`,
    python: `DARTS_V1 = Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])`,
  },
  DARTS_V2: {
    source: `Liu, Simonyan, Yang: DARTS: Differentiable Architecture Search, ICLR 2019 (second-order, the paper's cell); ${DARTS_V_REPO}`,
    python: `DARTS_V2 = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])`,
  },
  PC_DARTS_cifar: {
    source:
      'Xu et al.: PC-DARTS: Partial Channel Connections for Memory-Efficient Architecture Search, ICLR 2020 (searched on CIFAR-10); github.com/yuhuixu1993/PC-DARTS, genotypes.py',
    python: `PC_DARTS_cifar = Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))`,
  },
  PC_DARTS_image: {
    source:
      'Xu et al.: PC-DARTS: Partial Channel Connections for Memory-Efficient Architecture Search, ICLR 2020 (searched on ImageNet); github.com/yuhuixu1993/PC-DARTS, genotypes.py',
    python: `PC_DARTS_image = Genotype(normal=[('skip_connect', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_5x5', 2), ('max_pool_3x3', 1), ('sep_conv_3x3', 2), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 3)], reduce_concat=range(2, 6))`,
  },
  PDARTS: {
    source:
      'Chen, Xie, Wu, Tian: Progressive Differentiable Architecture Search: Bridging the Depth Gap between Search and Evaluation (P-DARTS), ICCV 2019; github.com/chenxin061/pdarts, genotypes.py',
    python: `PDARTS = Genotype(normal=[('skip_connect', 0), ('dil_conv_3x3', 1), ('skip_connect', 0),('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3',0), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('avg_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 0), ('dil_conv_3x3', 1), ('dil_conv_3x3', 1), ('dil_conv_5x5', 3)], reduce_concat=range(2, 6))`,
  },
  NASNet: {
    source: `Zoph, Vasudevan, Shlens, Le: Learning Transferable Architectures for Scalable Image Recognition (NASNet-A), CVPR 2018; as transcribed in ${DARTS_REPO}`,
    python: `NASNet = Genotype(
  normal = [
    ('sep_conv_5x5', 1),
    ('sep_conv_3x3', 0),
    ('sep_conv_5x5', 0),
    ('sep_conv_3x3', 0),
    ('avg_pool_3x3', 1),
    ('skip_connect', 0),
    ('avg_pool_3x3', 0),
    ('avg_pool_3x3', 0),
    ('sep_conv_3x3', 1),
    ('skip_connect', 1),
  ],
  normal_concat = [2, 3, 4, 5, 6],
  reduce = [
    ('sep_conv_5x5', 1),
    ('sep_conv_7x7', 0),
    ('max_pool_3x3', 1),
    ('sep_conv_7x7', 0),
    ('avg_pool_3x3', 1),
    ('sep_conv_5x5', 0),
    ('skip_connect', 3),
    ('avg_pool_3x3', 2),
    ('sep_conv_3x3', 2),
    ('max_pool_3x3', 1),
  ],
  reduce_concat = [4, 5, 6],
)`,
  },
  AmoebaNet: {
    source: `Real, Aggarwal, Huang, Le: Regularized Evolution for Image Classifier Architecture Search (AmoebaNet-A), AAAI 2019; as transcribed in ${DARTS_REPO}`,
    python: `AmoebaNet = Genotype(
  normal = [
    ('avg_pool_3x3', 0),
    ('max_pool_3x3', 1),
    ('sep_conv_3x3', 0),
    ('sep_conv_5x5', 2),
    ('sep_conv_3x3', 0),
    ('avg_pool_3x3', 3),
    ('sep_conv_3x3', 1),
    ('skip_connect', 1),
    ('skip_connect', 0),
    ('avg_pool_3x3', 1),
    ],
  normal_concat = [4, 5, 6],
  reduce = [
    ('avg_pool_3x3', 0),
    ('sep_conv_3x3', 1),
    ('max_pool_3x3', 0),
    ('sep_conv_7x7', 2),
    ('sep_conv_7x7', 0),
    ('avg_pool_3x3', 1),
    ('max_pool_3x3', 0),
    ('max_pool_3x3', 1),
    ('conv_7x1_1x7', 0),
    ('sep_conv_3x3', 5),
  ],
  reduce_concat = [3, 4, 6]
)`,
  },
  ENAS: {
    source:
      'Pham, Guan, Zoph, Le, Dean: Efficient Neural Architecture Search via Parameter Sharing (ENAS micro cell), ICML 2018; as transcribed in github.com/ianwhale/nsga-net, models/micro_genotypes.py (Lu et al.: NSGA-Net, GECCO 2019)',
    python: `ENAS = Genotype(
    normal=[
        ('sep_conv_3x3', 1),
        ('skip_connect', 1),
        ('sep_conv_5x5', 1),
        ('skip_connect', 0),
        ('avg_pool_3x3', 0),
        ('sep_conv_3x3', 1),
        ('sep_conv_3x3', 0),
        ('avg_pool_3x3', 0),
        ('sep_conv_5x5', 1),
        ('avg_pool_3x3', 0)
    ],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[
        ('sep_conv_5x5', 0),
        ('avg_pool_3x3', 1),
        ('sep_conv_3x3', 1),
        ('avg_pool_3x3', 1),
        ('avg_pool_3x3', 1),
        ('sep_conv_3x3', 1),
        ('sep_conv_5x5', 4),
        ('avg_pool_3x3', 1),
        ('sep_conv_3x3', 5),
        ('sep_conv_5x5', 0)
    ],
    reduce_concat=[2, 3, 6]
)`,
  },
};

function deepFreeze(g: Genotype): Genotype {
  for (const edge of [...g.normal, ...g.reduce]) Object.freeze(edge);
  for (const list of [g.normal, g.reduce, g.normal_concat, g.reduce_concat]) Object.freeze(list);
  return Object.freeze(g);
}

/** The published cells by name: DARTS_V1, DARTS_V2, PC_DARTS_cifar, PC_DARTS_image, PDARTS, NASNet, AmoebaNet, ENAS. */
export const PUBLISHED_GENOTYPES: Readonly<Record<string, PublishedGenotype>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SOURCES).map(([name, { source, python }]) => [
      name,
      Object.freeze({ genotype: deepFreeze(parseGenotype(python)), source, python }),
    ]),
  ),
);

/** The names of the published cells, in library order. */
export const PUBLISHED_GENOTYPE_NAMES: readonly string[] = Object.freeze(Object.keys(SOURCES));

/** The published name matching `name` case-insensitively, or undefined. */
export function findPublishedName(name: string): string | undefined {
  const wanted = name.trim().toLowerCase();
  return PUBLISHED_GENOTYPE_NAMES.find((n) => n.toLowerCase() === wanted);
}

/** A published genotype by name (case-insensitive); an unknown name throws an InputError listing the known ones. */
export function getPublishedGenotype(name: string): Genotype {
  const found = findPublishedName(name);
  if (found === undefined) {
    const near = nearestName(name.trim(), PUBLISHED_GENOTYPE_NAMES);
    throw new InputError(
      `unknown genotype name '${name}'` +
        (near ? ` (did you mean '${near}'?)` : '') +
        `; known names: ${PUBLISHED_GENOTYPE_NAMES.join(', ')}`,
    );
  }
  return (PUBLISHED_GENOTYPES[found] as PublishedGenotype).genotype;
}
