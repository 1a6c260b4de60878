/**
 * model.py of an export: a self-contained PyTorch module (torch only) with the structure of
 * robust-nas's network (src/evaluator/network.ts, cell.ts, operations.ts, layers/, baselines/),
 * DARTS's cnn/model.py and operations.py as the model, module names chosen so that the state_dict
 * keys are robust-nas's variable names (see state-dict.ts), and the size arithmetic of robust-nas
 * (odd sizes in FactorizedReduce, pools skipped on 1-pixel maps). The generated file holds only
 * the parts its network uses, a pure-Python safetensors reader, and build_model().
 */
import type { Genotype } from '../core/genotype.js';
import type { ExportNetwork } from './state-dict.js';

/** A JSON-like value as a Python literal (numbers, strings, booleans, None, lists, dicts). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`no Python literal for ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`,
    );
    return `{${items.join(', ')}}`;
  }
  throw new Error(`no Python literal for a ${typeof value}`);
}

function genotypeLiteral(g: Genotype): string {
  const edges = (list: Genotype['normal']) =>
    `[${list.map(([op, input]) => `(${JSON.stringify(op)}, ${input})`).join(', ')}]`;
  return [
    '{',
    `    "normal": ${edges(g.normal)},`,
    `    "normal_concat": ${pythonLiteral([...g.normal_concat])},`,
    `    "reduce": ${edges(g.reduce)},`,
    `    "reduce_concat": ${pythonLiteral([...g.reduce_concat])},`,
    '}',
  ].join('\n');
}

const COMMON = `
class Normalize(nn.Module):
    """(x - mean) / std per channel, as robust-nas does inside its models; no state_dict entries."""

    def __init__(self, mean, std):
        super().__init__()
        self.enabled = mean is not None
        if self.enabled:
            c = len(mean)
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1), persistent=False)
            self.register_buffer("inv_std", 1.0 / torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1), persistent=False)

    def forward(self, x):
        return (x - self.mean) * self.inv_std if self.enabled else x


def load_safetensors(path):
    """A safetensors file as {name: tensor} (F32 and I64; little-endian machines), torch only.
    safetensors.torch.load_file(path) gives the same, where that package is installed."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        t = torch.frombuffer(raw, dtype=dtypes[entry["dtype"]]) if raw else torch.empty(0, dtype=dtypes[entry["dtype"]])
        tensors[name] = t.reshape(entry["shape"]).clone()
    return tensors


def count_parameters(model):
    """Trainable parameters without the auxiliary head: robust-nas's (and the DARTS paper's) count."""
    return sum(p.numel() for name, p in model.named_parameters() if not name.startswith("auxiliary_head."))
`;

const DARTS = `
def drop_path(x, drop_prob):
    """DARTS drop-path: each sample kept with probability 1 - p, kept ones scaled by 1 / (1 - p)."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class Zero(nn.Module):
    """'none': zeros of the strided input's shape."""

    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return torch.zeros_like(x[:, :, :: self.stride, :: self.stride])


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride, padding):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class FactorizedReduce(nn.Module):
    """ReLU, two stride-2 1x1 convs (on x and on x shifted by one pixel), concatenated, BatchNorm.
    Odd sizes (where DARTS's version fails): the shifted input gets one zero row/column at its far
    edge, so both halves are ceil(H/2) x ceil(W/2), as in robust-nas; even sizes are DARTS's."""

    def __init__(self, c_in, c_out):
        super().__init__()
        assert c_out % 2 == 0, "FactorizedReduce needs an even channel count"
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = F.relu(x)
        h, w = x.shape[2], x.shape[3]
        shifted = F.pad(x[:, :, 1:, 1:], (0, w % 2, 0, h % 2))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


def sep_conv(c, kernel, stride, padding):
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, kernel, stride=stride, padding=padding, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, kernel, stride=1, padding=padding, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c),
    )


def dil_conv(c, kernel, stride, padding, dilation):
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, kernel, stride=stride, padding=padding, dilation=dilation, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c),
    )


def conv_7x1_1x7(c, stride):
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
        nn.Conv2d(c, c, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
        nn.BatchNorm2d(c),
    )


OPS = {
    "none": lambda c, stride: Zero(stride),
    "avg_pool_3x3": lambda c, stride: nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False),
    "max_pool_3x3": lambda c, stride: nn.MaxPool2d(3, stride=stride, padding=1),
    "skip_connect": lambda c, stride: nn.Identity() if stride == 1 else FactorizedReduce(c, c),
    "sep_conv_3x3": lambda c, stride: sep_conv(c, 3, stride, 1),
    "sep_conv_5x5": lambda c, stride: sep_conv(c, 5, stride, 2),
    "sep_conv_7x7": lambda c, stride: sep_conv(c, 7, stride, 3),
    "dil_conv_3x3": lambda c, stride: dil_conv(c, 3, stride, 2, 2),
    "dil_conv_5x5": lambda c, stride: dil_conv(c, 5, stride, 4, 2),
    "conv_7x1_1x7": lambda c, stride: conv_7x1_1x7(c, stride),
}


class Cell(nn.Module):
    """DARTS's cell: preprocess both inputs to C channels; each node sums two ops on earlier states;
    the output concatenates the *_concat states. In a reduction cell the ops on the inputs have stride 2."""

    def __init__(self, genotype, c_prev_prev, c_prev, c, reduction, reduction_prev):
        super().__init__()
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(c_prev_prev, c)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        edges = genotype["reduce"] if reduction else genotype["normal"]
        self.concat = list(genotype["reduce_concat"] if reduction else genotype["normal_concat"])
        self.multiplier = len(self.concat)
        self._ops = nn.ModuleList()
        self._inputs = []
        for name, index in edges:
            stride = 2 if reduction and index < 2 else 1
            self._ops.append(OPS[name](c, stride))
            self._inputs.append(index)
        self.drop_path_prob = 0.0

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(0, len(self._ops), 2):
            total = 0
            for e in (k, k + 1):
                op = self._ops[e]
                h = op(states[self._inputs[e]])
                if self.training and self.drop_path_prob > 0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, self.drop_path_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS's AuxiliaryHeadCIFAR (training only); for maps other than 8x8 the pool and the second
    conv shrink to fit and the features are averaged over space, as in robust-nas."""

    def __init__(self, c, h, w, num_classes):
        super().__init__()
        pool = min(5, h, w)
        ph, pw = (h - pool) // 3 + 1, (w - pool) // 3 + 1
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(pool, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, min(2, ph, pw), bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3)))


class NetworkCIFAR(nn.Module):
    """DARTS's NetworkCIFAR: 3x3 stem conv (3C channels) + BN, cells (reduction cells, channels
    doubled, at layers//3 and 2*layers//3), global average pooling, linear classifier; optionally
    the auxiliary head after cell 2*layers//3 (training only). Takes NCHW images in [0, 1]."""

    def __init__(self, genotype, channels, layers, num_classes, input_shape, mean=None, std=None, auxiliary=False):
        super().__init__()
        h, w, c_in = input_shape
        self.normalize = Normalize(mean, std)
        stem = 3 * channels
        self.stem = nn.Sequential(nn.Conv2d(c_in, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem))
        c_prev_prev, c_prev, c = stem, stem, channels
        self.cells = nn.ModuleList()
        self._auxiliary_after = (2 * layers) // 3
        self.auxiliary_head = None
        self.drop_path_prob = 0.0
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, (2 * layers) // 3)
            if reduction:
                c *= 2
                h, w = (h + 1) // 2, (w + 1) // 2
            cell = Cell(genotype, c_prev_prev, c_prev, c, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, c * cell.multiplier
            if auxiliary and i == self._auxiliary_after:
                self.auxiliary_head = AuxiliaryHead(c_prev, h, w, num_classes)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        """Logits [N, classes]; in training mode with the auxiliary head, (logits, auxiliary logits)."""
        s0 = s1 = self.stem(self.normalize(x))
        aux = None
        for i, cell in enumerate(self.cells):
            cell.drop_path_prob = self.drop_path_prob
            s0, s1 = s1, cell(s0, s1)
            if self.auxiliary_head is not None and self.training and i == self._auxiliary_after:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(s1.mean(dim=(2, 3)))
        return (logits, aux) if aux is not None else logits
`;

const SCALED = `
def scaled_channels(base, width):
    """max(1, round(base * width)), rounding halves up as robust-nas (JavaScript's Math.round)."""
    return max(1, int(math.floor(base * width + 0.5)))
`;

const RESNET = `${SCALED}

class ConvBN(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return self.bn(self.conv(x))


class BasicBlock(nn.Module):
    def __init__(self, c_in, planes, stride):
        super().__init__()
        self.add_module("1", ConvBN(c_in, planes, 3, stride))
        self.add_module("2", ConvBN(planes, planes, 3, 1))
        self.shortcut = ConvBN(c_in, planes, 1, stride) if stride != 1 or c_in != planes else None

    def forward(self, x):
        y = self._modules["2"](F.relu(self._modules["1"](x)))
        skip = self.shortcut(x) if self.shortcut is not None else x
        return F.relu(y + skip)


class ResNet18(nn.Module):
    """ResNet-18, CIFAR variant (kuangliu/pytorch-cifar): 3x3 stem conv + BN, no max pool, four
    stages of two BasicBlocks, global average pooling, linear classifier; width scales channels."""

    def __init__(self, num_classes, input_shape, width=1.0, mean=None, std=None):
        super().__init__()
        c = scaled_channels(64, width)
        self.normalize = Normalize(mean, std)
        self.stem = ConvBN(input_shape[2], c, 3, 1)
        for i, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
            p = scaled_channels(planes, width)
            setattr(self, "layer%d" % (i + 1), nn.Sequential(BasicBlock(c, p, stride), BasicBlock(p, p, 1)))
            c = p
        self.linear = nn.Linear(c, num_classes)

    def forward(self, x):
        y = F.relu(self.stem(self.normalize(x)))
        for i in range(1, 5):
            y = getattr(self, "layer%d" % i)(y)
        return self.linear(y.mean(dim=(2, 3)))
`;

const VGG = `${SCALED}

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class ConvBNReLU(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Vgg16(nn.Module):
    """VGG-16 with BatchNorm, CIFAR variant (kuangliu/pytorch-cifar): 13 3x3 convs with bias + BN +
    ReLU, 2x2 max pools (skipped where a side would drop below 1), features averaged over space,
    one linear classifier; width scales channels."""

    def __init__(self, num_classes, input_shape, width=1.0, mean=None, std=None):
        super().__init__()
        h, w, c = input_shape
        self.normalize = Normalize(mean, std)
        self.features = nn.Sequential()
        for i, v in enumerate(VGG16):
            if v == "M":
                if h >= 2 and w >= 2:
                    self.features.add_module(str(i), nn.MaxPool2d(2, 2))
                    h, w = h // 2, w // 2
                else:
                    self.features.add_module(str(i), nn.Identity())
            else:
                out = scaled_channels(v, width)
                self.features.add_module(str(i), ConvBNReLU(c, out))
                c = out
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.classifier(self.features(self.normalize(x)).mean(dim=(2, 3)))
`;

const DENSENET = `${SCALED}

class Bottleneck(nn.Module):
    def __init__(self, c_in, growth):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv1(F.relu(self.bn1(x)))
        y = self.conv2(F.relu(self.bn2(y)))
        return torch.cat([y, x], dim=1)


class Transition(nn.Module):
    def __init__(self, c_in, c_out, pool):
        super().__init__()
        self.bn = nn.BatchNorm2d(c_in)
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.pool = pool

    def forward(self, x):
        y = self.conv(F.relu(self.bn(x)))
        return F.avg_pool2d(y, 2) if self.pool else y


class DenseNet121(nn.Module):
    """DenseNet-121, CIFAR variant (kuangliu/pytorch-cifar): blocks [6, 12, 24, 16], growth 32
    (times width), reduction 0.5 (transition pools skipped where a side would drop below 1), final
    BN-ReLU, global average pooling, linear classifier."""

    def __init__(self, num_classes, input_shape, width=1.0, mean=None, std=None):
        super().__init__()
        h, w, _ = input_shape
        growth = scaled_channels(32, width)
        self.normalize = Normalize(mean, std)
        self.conv1 = nn.Conv2d(input_shape[2], 2 * growth, 3, padding=1, bias=False)
        c = 2 * growth
        blocks = [6, 12, 24, 16]
        for i, n in enumerate(blocks):
            layers = []
            for _ in range(n):
                layers.append(Bottleneck(c, growth))
                c += growth
            setattr(self, "dense%d" % (i + 1), nn.Sequential(*layers))
            if i < len(blocks) - 1:
                pool = h >= 2 and w >= 2
                setattr(self, "trans%d" % (i + 1), Transition(c, c // 2, pool))
                c = c // 2
                if pool:
                    h, w = h // 2, w // 2
        self.bn = nn.BatchNorm2d(c)
        self.linear = nn.Linear(c, num_classes)

    def forward(self, x):
        y = self.conv1(self.normalize(x))
        for i in range(1, 5):
            y = getattr(self, "dense%d" % i)(y)
            if i < 4:
                y = getattr(self, "trans%d" % i)(y)
        return self.linear(F.relu(self.bn(y)).mean(dim=(2, 3)))
`;

export interface ModelPyText {
  /** What the export is, for the docstring (e.g. "evaluation 12 of run r-..., genotype 3fa..."). */
  readonly title: string;
  /** Whether model.safetensors is written beside model.py. */
  readonly weights: boolean;
  /** Trainable parameters of the network (auxiliary head excluded), stated in the docstring. */
  readonly params: number;
}

/** The text of model.py for `network`. */
export function modelPy(network: ExportNetwork, about: ModelPyText): string {
  const { spec, options } = network;
  const [h, w, c] = options.inputShape;
  const norm = options.normalization;
  const normText = norm
    ? `Normalisation (x - mean) / std per channel happens inside the model:\nmean = ${pythonLiteral(norm.mean)}, std = ${pythonLiteral(norm.std)}.`
    : 'No normalisation: the network sees the [0, 1] pixels as they are (none was given).';
  const auxiliary = 'genotype' in spec && options.auxiliary === true;
  const title = about.title.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const header = `"""${title}

Exported by robust-nas (export-model): a self-contained PyTorch module, needing torch only.

Input: float32 images [N, ${c}, ${h}, ${w}] (NCHW, PyTorch's layout; robust-nas works in NHWC:
x_nchw = x_nhwc.permute(0, 3, 1, 2)), pixel values in [0, 1].
${normText}
Output: logits [N, ${options.numClasses}] (no softmax).${auxiliary ? "\nIn training mode the model also returns the auxiliary head's logits: (logits, aux_logits)." : ''}
Parameters: ${about.params} (auxiliary head excluded; count_parameters(model)).
Weights: ${about.weights ? 'model.safetensors beside this file (load_weights(model)); keys = state_dict keys.' : "none exported (build_model() is at PyTorch's default initialisation)."}
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

`;
  const shape = pythonLiteral([h, w, c]);
  const mean = norm ? pythonLiteral(norm.mean) : 'None';
  const std = norm ? pythonLiteral(norm.std) : 'None';
  let body: string;
  let config: string;
  let build: string;
  if ('genotype' in spec) {
    body = DARTS;
    config = [
      `GENOTYPE = ${genotypeLiteral(spec.genotype)}`,
      '',
      `CONFIG = {"channels": ${options.channels}, "layers": ${options.layers}, "num_classes": ${options.numClasses}, "input_shape": ${shape}, "mean": ${mean}, "std": ${std}, "auxiliary": ${pythonLiteral(auxiliary)}}`,
    ].join('\n');
    build = `
def build_model(auxiliary=None):
    """The exported network (auxiliary: None = as exported, ${pythonLiteral(auxiliary)})."""
    cfg = dict(CONFIG)
    if auxiliary is not None:
        cfg["auxiliary"] = auxiliary
    return NetworkCIFAR(GENOTYPE, cfg["channels"], cfg["layers"], cfg["num_classes"], cfg["input_shape"], cfg["mean"], cfg["std"], cfg["auxiliary"])
`;
  } else {
    const cls = { resnet18: 'ResNet18', vgg16: 'Vgg16', densenet121: 'DenseNet121' }[spec.arch];
    body = { resnet18: RESNET, vgg16: VGG, densenet121: DENSENET }[spec.arch];
    config = `CONFIG = {"arch": ${JSON.stringify(spec.arch)}, "width": ${spec.width ?? 1}, "num_classes": ${options.numClasses}, "input_shape": ${shape}, "mean": ${mean}, "std": ${std}}`;
    build = `
def build_model():
    """The exported network."""
    return ${cls}(CONFIG["num_classes"], CONFIG["input_shape"], CONFIG["width"], CONFIG["mean"], CONFIG["std"])
`;
  }
  const tail = `
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.safetensors")


def load_weights(model, path=WEIGHTS, strict=True):
    """Loads the exported weights (model.safetensors) into model; returns model."""
    model.load_state_dict(load_safetensors(path), strict=strict)
    return model


if __name__ == "__main__":
    net = build_model()
    if os.path.exists(WEIGHTS):
        load_weights(net)
    print("parameters:", count_parameters(net))
`;
  return `${header}${COMMON}${body}\n${config}\n${build}${tail}`;
}
