"""ONNX export (opset 17, dynamic batch axis, constants folded) and a CPU check with onnxruntime.

onnxruntime is not installed for this Python, so the check runs onnxruntime-node (the runtime the
server uses) through `node`, from the repository root, comparing against the torch outputs and timing
batch-1 inference.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Dict, List, Sequence

import numpy as np
import torch

OPSET = 17

_NODE_CHECK = r"""
const ort = require('onnxruntime-node');
const fs = require('fs');
(async () => {
  const spec = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
  const sess = await ort.InferenceSession.create(spec.model, { executionProviders: ['cpu'], intraOpNumThreads: spec.threads });
  const feeds = {};
  for (const [name, v] of Object.entries(spec.inputs)) feeds[name] = new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
  const out = await sess.run(feeds);
  const res = { outputs: {}, inputNames: sess.inputNames, outputNames: sess.outputNames };
  for (const k of Object.keys(out)) res.outputs[k] = { dims: out[k].dims, data: Array.from(out[k].data) };
  // batch-1 latency
  const one = {};
  for (const [name, v] of Object.entries(spec.inputs)) {
    const per = v.data.length / v.shape[0];
    one[name] = new ort.Tensor('float32', Float32Array.from(v.data.slice(0, per)), [1, ...v.shape.slice(1)]);
  }
  for (let i = 0; i < 10; i++) await sess.run(one);
  const times = [];
  for (let i = 0; i < spec.iters; i++) { const t = process.hrtime.bigint(); await sess.run(one); times.push(Number(process.hrtime.bigint() - t) / 1e6); }
  times.sort((a, b) => a - b);
  res.latencyMs = { median: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)], min: times[0], iters: spec.iters, threads: spec.threads };
  process.stdout.write(JSON.stringify(res));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def export_onnx(module: torch.nn.Module, dummies: Sequence[torch.Tensor], input_names: List[str],
                output_names: List[str], path: str) -> None:
    module.eval()
    dyn = {n: {0: "N"} for n in list(input_names) + list(output_names)}
    torch.onnx.export(module, tuple(dummies), path, opset_version=OPSET, input_names=input_names,
                      output_names=output_names, dynamic_axes=dyn, do_constant_folding=True)


def verify_with_node(module: torch.nn.Module, path: str, inputs: Dict[str, torch.Tensor], repo_root: str,
                     iters: int = 200, threads: int = 1) -> dict:
    """Run the ONNX file with onnxruntime-node; compare to torch; return max abs diffs + latency."""
    module.eval()
    with torch.no_grad():
        ref = module(*inputs.values())
    spec = {"model": os.path.abspath(path), "iters": iters, "threads": threads,
            "inputs": {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in inputs.items()}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        spec_path = fh.name
    try:
        p = subprocess.run(["node", "-e", _NODE_CHECK, spec_path], cwd=repo_root, capture_output=True,
                           text=True, timeout=600)
    finally:
        os.unlink(spec_path)
    if p.returncode != 0:
        return {"ok": False, "error": p.stderr[-2000:]}
    res = json.loads(p.stdout)
    diffs = {}
    for name, t in zip(res["outputNames"], ref):
        o = res["outputs"][name]
        a = np.asarray(o["data"], np.float32).reshape(o["dims"])
        diffs[name] = {"shape": list(o["dims"]), "maxAbsDiff": float(np.abs(a - t.numpy()).max())}
    ok = all(d["maxAbsDiff"] < 1e-2 * max(1.0, float(np.abs(t.numpy()).max())) for d, t in zip(diffs.values(), ref))
    return {"ok": bool(ok), "runtime": "onnxruntime-node (CPU)", "outputs": diffs, "latencyMsBatch1": res["latencyMs"],
            "inputNames": res["inputNames"], "outputNames": res["outputNames"]}
