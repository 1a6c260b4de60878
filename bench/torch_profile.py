"""Per-kernel profile of one PyTorch training step and one PGD step of the CIFAR workload, for
side-by-side comparison with robust-nas's own (scripts/train-profile.ts): the same network, built
by the PyTorch reference (../shared/bench/torch_reference.py, passed with --reference), profiled
with torch.autograd.profiler on one thread. Each aten op's self CPU time is put in one of the
categories scripts/profile-helpers.ts uses for tfjs kernels (conv ops by their weight's shape).

Usage: /usr/bin/python3 bench/torch_profile.py --reference ../shared/bench/torch_reference.py \
         [--C 16 --layers 8 --hw 32 --in-ch 3 --batch 64 --threads 1 --repeats 3] [--json out.json]
Prints a table per step; --json writes {"train": {...}, "pgd": {...}} with wall ms per step (best
unprofiled), profiled ms, and per category and per op the self ms (median over --repeats)."""
import argparse, importlib.util, json, os, statistics, sys, time

import torch
import torch.nn.functional as F


def load_reference(path):
    if not os.path.isfile(path):
        sys.exit(f'torch_profile.py: reference {path!r} is not a file (pass --reference)')
    spec = importlib.util.spec_from_file_location('torch_reference', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def conv_kind(weight_shape):
    """'depthwise', '1x1' or 'regular' from an NCHW conv weight [Co, Ci/groups, KH, KW]."""
    if len(weight_shape) != 4:
        return 'regular'
    co, cig, kh, kw = weight_shape
    if kh == 1 and kw == 1:
        return '1x1'
    if cig == 1 and co > 1:
        return 'depthwise'
    return 'regular'


def category(name, shapes):
    if name in ('aten::mkldnn_convolution', 'aten::_slow_conv2d_forward', 'aten::thnn_conv2d',
                'aten::_conv_depthwise2d', 'aten::_nnpack_spatial_convolution', 'aten::slow_conv_dilated2d'):
        return f'conv {conv_kind(shapes[1] if len(shapes) > 1 else [])} forward'
    if name == 'aten::convolution_backward':
        return f'conv {conv_kind(shapes[2] if len(shapes) > 2 else [])} backward (input+filter)'
    if name == 'aten::native_batch_norm':
        return 'batchnorm forward'
    if name == 'aten::native_batch_norm_backward':
        return 'batchnorm backward'
    if name in ('aten::clamp_min', 'aten::relu', 'aten::threshold'):
        return 'relu forward'
    if name == 'aten::threshold_backward':
        return 'relu backward'
    if name in ('aten::max_pool2d_with_indices', 'aten::avg_pool2d'):
        return 'pooling forward'
    if name in ('aten::max_pool2d_with_indices_backward', 'aten::avg_pool2d_backward'):
        return 'pooling backward'
    if name == 'aten::add':
        return 'add (cell node sums, gradient sums)'
    if name in ('aten::add_', 'aten::mul_', 'aten::addcmul_', 'aten::_foreach_add_', 'aten::_foreach_mul_'):
        return 'sgd update + grad accumulation'
    if name in ('aten::cat', 'aten::slice', 'aten::slice_backward', 'aten::copy_', 'aten::fill_',
                'aten::zero_', 'aten::zeros', 'aten::empty', 'aten::empty_like', 'aten::clone',
                'aten::as_strided', 'aten::as_strided_', 'aten::narrow', 'aten::constant_pad_nd',
                'aten::contiguous', 'aten::_to_copy', 'aten::to', 'aten::resize_', 'aten::view',
                'aten::detach', 'aten::detach_', 'aten::reshape'):
        return 'memory: concat, slice, pad, copies, allocation'
    if name.startswith('aten::'):
        return 'other ops (loss, classifier, pgd arithmetic)'
    return 'framework (autograd engine, python, dispatch)'


def profile_once(step):
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        t0 = time.perf_counter()
        step()
        wall = (time.perf_counter() - t0) * 1000
    cats, ops = {}, {}
    for e in prof.key_averages(group_by_input_shape=True):
        ms = e.self_cpu_time_total / 1000
        if ms <= 0:
            continue
        c = category(e.key, e.input_shapes or [])
        cats[c] = cats.get(c, 0) + ms
        ops[e.key] = ops.get(e.key, 0) + ms
    return wall, cats, ops


def median_dicts(ds):
    keys = set().union(*ds)
    return {k: statistics.median(d.get(k, 0.0) for d in ds) for k in keys}


def summarise(label, step, repeats, plain_steps):
    step(); step()
    t0 = time.perf_counter()
    best = float('inf')
    for _ in range(plain_steps):
        t = time.perf_counter(); step(); best = min(best, (time.perf_counter() - t) * 1000)
    runs = [profile_once(step) for _ in range(repeats)]
    walls = [r[0] for r in runs]
    cats = median_dicts([r[1] for r in runs])
    ops = median_dicts([r[2] for r in runs])
    total = sum(cats.values())
    print(f'{label}: best unprofiled {best:.0f} ms/step; profiled {statistics.median(walls):.0f} ms '
          f'(median of {repeats}); self times sum {total:.0f} ms')
    for c, ms in sorted(cats.items(), key=lambda kv: -kv[1]):
        print(f'  {c:55s} {ms:8.1f} ms {100 * ms / total:5.1f}%')
    return dict(best_ms=best, profiled_ms=statistics.median(walls), categories=cats,
                ops={k: v for k, v in sorted(ops.items(), key=lambda kv: -kv[1])[:40]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reference', required=True)
    ap.add_argument('--genotype', default='DARTS_V2')
    ap.add_argument('--C', type=int, default=16); ap.add_argument('--layers', type=int, default=8)
    ap.add_argument('--hw', type=int, default=32); ap.add_argument('--in-ch', type=int, default=3)
    ap.add_argument('--batch', type=int, default=64); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--json')
    a = ap.parse_args()
    ref = load_reference(a.reference)
    if a.genotype not in ref.G:
        sys.exit(f'torch_profile.py: unknown genotype {a.genotype!r}; the reference has {sorted(ref.G)}')
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    net = ref.Net(ref.G[a.genotype], a.C, a.layers, 10, a.in_ch)
    x = torch.rand(a.batch, a.in_ch, a.hw, a.hw); y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)

    def train_step():
        opt.zero_grad(); F.cross_entropy(net(x), y).backward(); opt.step()

    eps, alpha = 8 / 255, 2 / 255

    def pgd_step():
        xa = x.clone().requires_grad_(True)
        g, = torch.autograd.grad(F.cross_entropy(net(xa), y), xa)
        return torch.min(torch.max(xa.detach() + alpha * g.sign(), x - eps), x + eps).clamp(0, 1)

    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch {a.batch}, '
          f'{a.genotype} C={a.C} layers={a.layers} {a.hw}x{a.hw}x{a.in_ch}')
    net.train(); train = summarise('train step', train_step, a.repeats, a.steps)
    net.eval(); pgd = summarise('pgd step', pgd_step, a.repeats, a.steps)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(torch=torch.__version__, threads=a.threads, batch=a.batch, train=train, pgd=pgd), f, indent=1)


if __name__ == '__main__':
    main()
