/**
 * Writes a PyTorch export of one network into a folder: model.py (see model-py.ts), the weights
 * as model.safetensors (see state-dict.ts and safetensors.ts) when there are weights, and a short
 * README.md (load, evaluate, continue training at full scale).
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { formatGenotype } from '../core/genotype-format.js';
import { modelPy } from './model-py.js';
import { encodeSafetensors } from './safetensors.js';
import {
  type ExportNetwork,
  networkVariables,
  readWeightsFile,
  toStateDict,
} from './state-dict.js';

export const EXPORT_FORMATS = ['pytorch'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRequest {
  readonly network: ExportNetwork;
  /** The folder to write into (created if missing). */
  readonly outDir: string;
  /** One line saying what this is (first line of model.py and README.md). */
  readonly title: string;
  /** A robust-nas weights file of exactly this network, or why there are none. */
  readonly weights: { readonly bytes: Buffer; readonly source: string } | { readonly none: string };
  /** Where the network comes from (run, evaluation, hash, ...): safetensors metadata and README. */
  readonly provenance: Readonly<Record<string, string>>;
}

export interface ExportResult {
  readonly files: string[];
  /** Trainable parameters (auxiliary head excluded): robust-nas's count, which model.py has. */
  readonly params: number;
  /** Tensors written to model.safetensors (0 without weights). */
  readonly tensors: number;
  /** Why no weights were written, when none were. */
  readonly noWeights?: string;
}

export async function exportPytorch(request: ExportRequest): Promise<ExportResult> {
  const { network, outDir } = request;
  const { params } = networkVariables(network);
  const stateDict =
    'bytes' in request.weights
      ? toStateDict(
          network,
          readWeightsFile(request.weights.bytes, request.weights.source).tensors,
          request.weights.source,
        )
      : undefined;
  await prepareFolder(outDir, stateDict !== undefined);
  const files: string[] = [];
  const model = modelPy(network, {
    title: request.title,
    weights: stateDict !== undefined,
    params,
  });
  await writeFile(join(outDir, 'model.py'), model);
  files.push(join(outDir, 'model.py'));
  if (stateDict) {
    const [h, w, c] = network.options.inputShape;
    const bytes = encodeSafetensors(stateDict, {
      format: 'pt',
      producer: 'robust-nas export-model',
      input: `NCHW float32 [N, ${c}, ${h}, ${w}] in [0, 1], normalised inside the model`,
      ...request.provenance,
    });
    await writeFile(join(outDir, 'model.safetensors'), bytes);
    files.push(join(outDir, 'model.safetensors'));
  }
  if ('genotype' in network.spec) {
    // The genotype in DARTS's notation: `--genotype genotype.txt` re-exports it at another size.
    await writeFile(
      join(outDir, 'genotype.txt'),
      `${formatGenotype(network.spec.genotype, 'python')}\n`,
    );
    files.push(join(outDir, 'genotype.txt'));
  }
  const noWeights = 'none' in request.weights ? request.weights.none : undefined;
  await writeFile(join(outDir, 'README.md'), readme(request, params, stateDict?.length, noWeights));
  files.push(join(outDir, 'README.md'));
  return {
    files,
    params,
    tensors: stateDict?.length ?? 0,
    ...(noWeights !== undefined ? { noWeights } : {}),
  };
}

/**
 * Creates the output folder (or takes an existing one). A model.safetensors left there by an
 * earlier export is refused when this export writes none: load_weights() would load it.
 */
async function prepareFolder(outDir: string, withWeights: boolean): Promise<void> {
  const info = await stat(outDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info && !info.isDirectory()) throw new InputError(`--out ${outDir} is not a folder`);
  if (
    !withWeights &&
    info &&
    (await stat(join(outDir, 'model.safetensors')).catch(() => undefined))
  ) {
    throw new InputError(
      `--out ${outDir} holds a model.safetensors of an earlier export, and this export has no weights: remove it or choose another folder`,
    );
  }
  await mkdir(outDir, { recursive: true });
}

function readme(
  request: ExportRequest,
  params: number,
  tensors: number | undefined,
  noWeights: string | undefined,
): string {
  const { spec, options } = request.network;
  const [h, w, c] = options.inputShape;
  const norm = options.normalization;
  const auxiliary = 'genotype' in spec && options.auxiliary === true;
  const provenance = Object.entries(request.provenance).map(([k, v]) => `- ${k}: ${v}`);
  const weightsLine =
    tensors !== undefined
      ? `- \`model.safetensors\`: the trained weights (${tensors} tensors, named as the module's \`state_dict\` keys, BatchNorm running statistics included; \`num_batches_tracked\` is 0: robust-nas uses PyTorch's default momentum 0.1 and does not count batches).`
      : `- No weights: ${noWeights}. \`build_model()\` starts from PyTorch's default initialisation.`;
  const load =
    tensors !== undefined
      ? 'model = load_weights(build_model()).eval()  # or: model.load_state_dict(safetensors.torch.load_file("model.safetensors"))'
      : 'model = build_model().eval()  # untrained: no weights were exported';
  const networkFlags =
    'genotype' in spec
      ? '--genotype genotype.txt --channels 36 --layers 20 --auxiliary'
      : `--arch ${spec.arch} --width 1`;
  return `# ${request.title}

Exported by \`robust-nas export-model\`.

${provenance.join('\n')}

## Files

- \`model.py\`: the network as a self-contained PyTorch \`nn.Module\` (needs \`torch\` only), with \`build_model()\`, \`load_weights()\` and \`count_parameters()\`.
${weightsLine}${'genotype' in spec ? "\n- `genotype.txt`: the genotype in DARTS's notation (`robust-nas export-model --genotype genotype.txt` exports it at another size)." : ''}

Input: float32 images \`[N, ${c}, ${h}, ${w}]\`, **NCHW** (PyTorch's layout; robust-nas itself works in NHWC, \`x.permute(0, 3, 1, 2)\` converts), pixel values in **[0, 1]**. ${
    norm
      ? `Normalisation happens **inside** the model (mean ${JSON.stringify(norm.mean)}, std ${JSON.stringify(norm.std)}): do not normalise the images yourself.`
      : 'The model applies no normalisation (none was given at export).'
  } Output: logits \`[N, ${options.numClasses}]\`.
Parameters: ${params.toLocaleString('en-US')} (as robust-nas counts them${auxiliary ? '; the auxiliary head, used in training only, is excluded' : ''}).${
    auxiliary
      ? `\nThe network has DARTS's auxiliary head: in \`train()\` mode \`model(x)\` returns \`(logits, aux_logits)\`; \`build_model(auxiliary=False)\` drops it (then load with \`load_weights(model, strict=False)\`).`
      : ''
  }

## Load

\`\`\`python
import torch
from model import build_model, load_weights, count_parameters

${load}
print(count_parameters(model))
\`\`\`

## Evaluate

\`\`\`python
correct = total = 0
with torch.no_grad():
    for images, labels in loader:  # images [N, ${c}, ${h}, ${w}] in [0, 1], e.g. torchvision's ToTensor() without Normalize
        correct += (model(images).argmax(1) == labels).sum().item()
        total += labels.numel()
print(correct / total)
\`\`\`

## Continue training at full scale

${
  tensors !== undefined
    ? 'The same network, more epochs: start from these weights and train on (`model.train()`)'
    : 'The same network: train it (`model.train()`)'
}, for example with SGD (lr 0.025, momentum 0.9, weight decay 3e-4) and a cosine schedule${
    auxiliary ? ', adding 0.4 x the auxiliary loss' : ''
  }, as in the loop below.

A larger network of the same architecture (DARTS's CIFAR-10 evaluation: 36 channels, 20 cells,
auxiliary head, 600 epochs, batch 96, cutout, drop-path 0.2) is exported without weights and
trained from scratch:

\`\`\`sh
robust-nas export-model ${networkFlags} --dataset cifar10 --out full-scale
\`\`\`

\`\`\`python
import torch, torch.nn.functional as F
from model import build_model

model = build_model()  # epochs, train_loader: yours (e.g. CIFAR-10 with ToTensor, random crop, flip, cutout)
opt = torch.optim.SGD(model.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
for epoch in range(epochs):
    model.train()
    model.drop_path_prob = 0.2 * epoch / epochs  # DARTS networks only
    for images, labels in train_loader:
        out = model(images)
        logits, aux = out if isinstance(out, tuple) else (out, None)
        loss = F.cross_entropy(logits, labels)
        if aux is not None:
            loss = loss + 0.4 * F.cross_entropy(aux, labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        opt.step()
    sched.step()
\`\`\`
`;
}
