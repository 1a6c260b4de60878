"""Interoperability check of a robust-nas PyTorch export (tests/interop/pytorch-export.test.ts).

usage: pytorch-check.py EXPORT_DIR BATCH_JSON
BATCH_JSON: {"shape": [N, H, W, C], "values": [...]} (NHWC, as robust-nas feeds its models).
Builds the exported module with model.py's build_model(), loads model.safetensors strictly,
runs the batch (converted to NCHW) in eval mode, and prints one JSON line:
{"params", "params_all", "keys", "logits", "torch"}.
"""
import importlib.util
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
export_dir, batch_file = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("exported_model", os.path.join(export_dir, "model.py"))
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

model = module.build_model()
state = module.load_safetensors(os.path.join(export_dir, "model.safetensors"))
model.load_state_dict(state, strict=True)
model.eval()

with open(batch_file) as f:
    batch = json.load(f)
x = torch.tensor(batch["values"], dtype=torch.float32).reshape(batch["shape"]).permute(0, 3, 1, 2).contiguous()
with torch.no_grad():
    logits = model(x)

# Training goes on from the loaded weights (README: continue training): one SGD step with
# drop-path and, where the network has it, the auxiliary head.
model.train()
model.drop_path_prob = 0.2
labels = torch.arange(x.shape[0]) % logits.shape[1]
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-4)
out = model(x)
main, aux = out if isinstance(out, tuple) else (out, None)
loss = F.cross_entropy(main, labels) + (0.4 * F.cross_entropy(aux, labels) if aux is not None else 0)
opt.zero_grad()
loss.backward()
opt.step()
print(
    json.dumps(
        {
            "params": module.count_parameters(model),
            "params_all": sum(p.numel() for p in model.parameters()),
            "keys": sorted(model.state_dict().keys()),
            "logits": logits.tolist(),
            "torch": torch.__version__,
            "train_loss": loss.item(),
            "train_aux": aux is not None,
        }
    )
)
