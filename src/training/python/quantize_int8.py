"""Int8 variant of a ChestNet version: `python3 quantize_int8.py --model models/chest/v1 [--calibration 256]`.

PyTorch 1.13's FX static quantisation (the `qnnpack` engine; this build has no `fbgemm`) of the network in
model.pt, calibrated on films of the version's own training split, exported to ONNX as a QDQ graph with
every output model.onnx has: logits, embedding, cam and the Mahalanobis gate's ood_distance. The gate's
constants (class means and precision) exist only inside model.onnx, so they are read from its
initializers (a few lines of protobuf, no `onnx` package) and kept in float, as are the classifier and
the CAM (`net.fc`): only the backbone runs in int8. Writes model.int8.onnx beside model.onnx; whether it
may serve is decided by the accuracy gate (`npm run evaluate` on both graphs), not here.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import data  # noqa: E402
import models  # noqa: E402


def _varint(b: bytes, i: int) -> "tuple[int, int]":
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b: bytes):
    i = 0
    while i < len(b):
        k, i = _varint(b, i)
        f, w = k >> 3, k & 7
        if w == 0:
            v, i = _varint(b, i)
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        elif w == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError(f"protobuf wire type {w}")
        yield f, w, v


def onnx_float_initializers(path: str) -> "dict[str, np.ndarray]":
    """Float initializers of an ONNX file by name (ModelProto.graph = 7, GraphProto.initializer = 5)."""
    with open(path, "rb") as f:
        model = f.read()
    graph = next(v for f, _, v in _fields(model) if f == 7)
    out = {}
    for f, _, tensor in _fields(graph):
        if f != 5:
            continue
        dims, name, raw, dtype = [], None, None, None
        for g, w, x in _fields(tensor):
            if g == 1:
                if w == 0:
                    dims.append(x)
                else:
                    j = 0
                    while j < len(x):
                        d, j = _varint(x, j)
                        dims.append(d)
            elif g == 2:
                dtype = x
            elif g == 8:
                name = x.decode()
            elif g == 9:
                raw = x
        if dtype == 1 and raw is not None and name:
            out[name] = np.frombuffer(raw, np.float32).reshape(dims).copy()
    return out


def gate_constants(onnx_path: str, dim: int) -> "tuple[np.ndarray, np.ndarray]":
    """The Mahalanobis means [C, D] and precision [D, D] baked into model.onnx."""
    inits = onnx_float_initializers(onnx_path)
    precision = inits.get("maha.precision")
    means = inits.get("maha.means")
    if means is None:  # folded by the exporter into the Sub's constant, [1, C, D]
        means = next((v for v in inits.values() if v.ndim == 3 and v.shape[0] == 1 and v.shape[2] == dim), None)
    if precision is None or means is None:
        raise SystemExit(f"{onnx_path}: the Mahalanobis constants were not found among its initializers")
    return means.reshape(-1, dim), precision


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--datasets", default=os.path.join(os.path.dirname(__file__), "../../../../shared/datasets"))
    ap.add_argument("--calibration", type=int, default=256)
    ap.add_argument("--out", default=None)
    ap.add_argument("--float-modules", default="", help="module names kept in float, comma-separated")
    ap.add_argument("--per-channel", action="store_true", help="per-channel weight scales with histogram activation observers")
    a = ap.parse_args()
    torch.backends.quantized.engine = "qnnpack"
    torch.manual_seed(0)
    ck = torch.load(os.path.join(a.model, "model.pt"), map_location="cpu")
    sd = ck["state_dict"]
    widths = tuple(sd[f"backbone.blocks.{i}.c1.weight"].shape[0] for i in range(4))
    net = models.ChestNet(sd["fc.weight"].shape[0], widths=widths)
    net.load_state_dict(sd)
    net.eval()
    means, precision = gate_constants(os.path.join(a.model, "model.onnx"), sd["fc.weight"].shape[1])
    export = models.ChestExport(net, models.Mahalanobis(torch.from_numpy(means), torch.from_numpy(precision))).eval()
    with open(os.path.join(a.model, "model.json")) as f:
        manifest = json.load(f)
    size = manifest["input"]["size"]
    if manifest["preprocessing"]["id"] != data.PREPROCESSING_ID:
        raise SystemExit(f"calibration uses {data.PREPROCESSING_ID}; the model reads {manifest['preprocessing']['id']}")
    with open(os.path.join(a.model, "manifest.csv")) as f:
        train = [r for r in csv.DictReader(f) if r["split"] == "train"]
    rng = np.random.default_rng(0)
    pick = rng.choice(len(train), size=min(a.calibration, len(train)), replace=False)
    films = np.concatenate([data.preprocess(os.path.join(a.datasets, train[i]["path"]), size) for i in pick])

    from torch.ao.quantization import QConfigMapping, get_default_qconfig
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    qconfig = get_default_qconfig("qnnpack")
    if a.per_channel:
        from torch.ao.quantization import HistogramObserver, QConfig, default_per_channel_weight_observer

        qconfig = QConfig(
            activation=HistogramObserver.with_args(reduce_range=False),
            weight=default_per_channel_weight_observer,
        )
    qmap = QConfigMapping().set_global(qconfig).set_module_name("net.fc", None).set_module_name("maha", None)
    for name in filter(None, a.float_modules.split(",")):
        qmap = qmap.set_module_name(name, None)
    example = torch.from_numpy(films[:4])
    prepared = prepare_fx(export, qmap, (example,))
    with torch.no_grad():
        for i in range(0, len(films), 32):
            prepared(torch.from_numpy(films[i:i + 32]))
    quantised = convert_fx(prepared).eval()
    with open(os.path.join(a.model, "manifest.csv")) as f:
        val = [r for r in csv.DictReader(f) if r["split"] == "val"][:64]
    held = torch.from_numpy(np.concatenate([data.preprocess(os.path.join(a.datasets, r["path"]), size) for r in val]))
    with torch.no_grad():
        ref = export(held)
        got = quantised(held)
    names = [o["name"] for o in manifest["outputs"]]
    for n, r, g in zip(names, ref, got):
        print(
            f"{n} on {len(val)} validation films: max |int8 - fp32| = {float((r - g).abs().max()):.4f}, "
            f"median {float((r - g).abs().median()):.4f} (fp32 max {float(r.abs().max()):.4f})"
        )
    out = a.out or os.path.join(a.model, "model.int8.onnx")
    torch.onnx.export(
        quantised,
        (example,),
        out,
        opset_version=13,
        input_names=manifest["input"]["names"],
        output_names=names,
        dynamic_axes={manifest["input"]["names"][0]: {0: "N"}, **{n: {0: "N"} for n in names}},
    )
    print(f"wrote {out} ({os.path.getsize(out)} bytes) from {len(films)} calibration films")


if __name__ == "__main__":
    main()
