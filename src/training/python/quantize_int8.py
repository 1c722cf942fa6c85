"""Int8 variant of a ChestNet version.

Chest v2 (the graph `ENGINE_PRECISION=int8` serves):
`python3 quantize_int8.py --model models/chest/v2 --per-channel --float-modules backbone.stem --calibration 256`,
then `npm run evaluate -- --model models/chest/v2 --variant int8 --write`, which measures it against
model.json's graph through the server's path and records it (accepted or not) in model.json.
Chest v1 (not accepted; README): `python3 quantize_int8.py --model models/chest/v1 --calibration 128`.

PyTorch 1.13's FX static quantisation (the `qnnpack` engine; this build has no `fbgemm`) of the backbone in
model.pt, calibrated on films of the version's own training split, exported to ONNX as a QDQ graph with
every output model.onnx has: logits, embedding, cam, the Mahalanobis gate's ood_distance and, for chest
v2, the body-part probe's not_target_logit.

On chest v2 the stem (the first two convolutions, on the equalised and normalised film) stays in float:
quantised, it moved the test split's NORMAL AUROC by +0.009 and the TB recall at the operating point by
+0.015 (every other choice here changed those by less than 0.005 only with the stem in float).

Three choices keep the gate (measured on chest v1; bench/results/int8.json):
- The head runs in float (`FloatHead`): the global average that is the embedding, the classifier, the CAM
  and the gate. With the embedding itself quantised to 8 bits, distances rose by about 3 on a threshold
  of 23.5 (median over validation films); with it in float, by about 0.4.
- Activation ranges seen in calibration are widened (`--activation-headroom`, default 2): films of another
  body part drive activations past the chest films' ranges, and clipping them pulls their distances
  down toward the chest films'. 2 was chosen on FracAtlas leg/hip/shoulder films (distance closest
  to fp32's), not on the upper-limb films the gate is judged on.
- The gate is refitted on the int8 graph's own embeddings: the class means and the Ledoit-Wolf precision
  with train.py's function (`calibrate.fit_mahalanobis`) on every training film of the version, the
  threshold by train.py's rule (the ceil(0.99 n)-th smallest distance of the n validation films).
  `--keep-fp32-gate` exports fp32's constants (read from model.onnx's initializers with a few lines of
  protobuf, no `onnx` package) instead.

Writes model.int8.onnx beside model.onnx and prints the gate's figures as JSON (`--gate-out` writes them
to a file). The threshold that ships is the same rule applied to the graph as served (onnxruntime-node),
whose int8 kernels round a little differently from qnnpack's. Whether the graph may serve is decided by
the accuracy gate (`npm run evaluate` on both graphs), not here.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import math
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import calibrate as cal  # noqa: E402
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


def body_part_probe(onnx_path: str) -> "torch.nn.Linear | None":
    """The WRONG_BODY_PART probe (`body_part`, Linear(D, 1)) baked into model.onnx, or None (chest v1)."""
    inits = onnx_float_initializers(onnx_path)
    if "body_part.weight" not in inits:
        return None
    w, b = inits["body_part.weight"], inits["body_part.bias"]
    lin = torch.nn.Linear(w.shape[1], 1)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(w))
        lin.bias.copy_(torch.from_numpy(b))
    return lin.eval()


def model_input(films: torch.Tensor, preprocessing: str) -> torch.Tensor:
    """The preprocessing steps after resize, on [B, 1, S, S] films in [0, 1] (data.load_images' cache)."""
    if preprocessing == data.PREPROCESSING_ID_V2:
        films = data.torch_equalize(films)
    return data.torch_instance_normalise(films)


PREPROCESS = {data.PREPROCESSING_ID: data.preprocess, data.PREPROCESSING_ID_V2: data.preprocess_v2}


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


class FloatHead(torch.nn.Module):
    """What runs in float after the int8 backbone: the global average (the embedding), the classifier, the
    CAM and the gate (the Mahalanobis distance, and the body-part probe where the version has one).
    Quantising the 256-d embedding itself to 8 bits was most of the gate's error."""

    def __init__(self, fc, maha, body_part=None):
        super().__init__()
        self.fc, self.maha, self.body_part = fc, maha, body_part

    def forward(self, f):
        emb = f.mean(dim=(2, 3))
        out = (self.fc(emb), emb, models.cam(f, self.fc), self.maha(emb))
        return out if self.body_part is None else out + (self.body_part(emb)[:, 0],)


class Int8Export(torch.nn.Module):
    """ChestExport's graph split where it is quantised: `backbone` (int8) then `head` (float)."""

    def __init__(self, net, maha, body_part=None):
        super().__init__()
        self.backbone, self.head = net.backbone, FloatHead(net.fc, maha, body_part)

    def forward(self, image):
        return self.head(self.backbone(image))


@torch.no_grad()
def embeddings(model, films: np.ndarray, preprocessing: str, batch: int = 64) -> np.ndarray:
    """The `embedding` output (the second) of `model` over films [N, S, S] in [0, 1] (normalised here)."""
    out = []
    for i in range(0, len(films), batch):
        x = model_input(torch.from_numpy(films[i:i + batch]).unsqueeze(1), preprocessing)
        out.append(model(x)[1].float().numpy())
    return np.concatenate(out)


def refit_thresholds(quantised, rows: "list[dict]", manifest: dict, cache_dir: "str | None") -> dict:
    """A version with a body-part probe (chest v2) keeps its gate's constants (means, precision, probe: the
    head runs in float on the int8 backbone's embedding) and takes both thresholds again by its own rule
    (chest_v2.py), on the int8 graph's validation embeddings: the distance's `gateQuantile` quantile times
    `oodMargin`, and the probe logit's `gateQuantile` quantile."""
    hp = manifest["training"]["hyperparameters"]
    q, margin = float(hp["gateQuantile"]), float(hp["oodMargin"])
    val = [r for r in rows if r["split"] == "val"]
    films = data.load_images([r["path"] for r in val], manifest["input"]["size"], cache_dir, workers=1)
    d, lg = [], []
    with torch.no_grad():
        for i in range(0, len(films), 64):
            out = quantised(model_input(torch.from_numpy(films[i:i + 64]).unsqueeze(1), manifest["preprocessing"]["id"]))
            d.append(out[3].numpy())
            lg.append(out[4].numpy())
    d, lg = np.concatenate(d), np.concatenate(lg)
    k = int(math.ceil(q * len(d))) - 1
    d_thr, l_thr = float(np.sort(d)[k]) * margin, float(np.sort(lg)[k])
    fp32 = manifest["gate"]
    return {
        "oodDistanceThreshold": round(d_thr, 4),
        "notTargetLogitThreshold": round(l_thr, 4),
        "fp32": {"oodDistanceThreshold": fp32["oodDistanceThreshold"], "notTargetLogitThreshold": fp32["notTargetLogitThreshold"]},
        "thresholdRule": fp32["thresholdRule"] + " (the int8 graph's own validation embeddings; fp32's constants)",
        "nValidation": len(val),
        "keptValidation": round(float(((d <= d_thr) & (lg <= l_thr)).mean()), 4),
    }


def refit_gate(quantised, rows: "list[dict]", classes: "list[str]", size: int, cache_dir: "str | None") -> dict:
    """Refits the float Mahalanobis module of `quantised` on its own embeddings of the training films and
    returns the gate's constants and threshold by train.py's rule on the validation films."""
    train = [r for r in rows if r["split"] == "train"]
    val = [r for r in rows if r["split"] == "val"]
    emb_tr = embeddings(quantised, data.load_images([r["path"] for r in train], size, cache_dir, workers=1), data.PREPROCESSING_ID)
    y_tr = np.array([classes.index(r["label"]) for r in train])
    means, prec, shrink = cal.fit_mahalanobis(emb_tr, y_tr)
    quantised.head.maha.means.copy_(torch.from_numpy(means))
    quantised.head.maha.precision.copy_(torch.from_numpy(prec))
    films_va = data.load_images([r["path"] for r in val], size, cache_dir, workers=1)
    emb_va = embeddings(quantised, films_va, data.PREPROCESSING_ID)
    d_va = cal.mahalanobis_np(emb_va, means, prec)
    with torch.no_grad():  # the graph's own ood_distance now reads the refitted constants
        d_graph = quantised(data.torch_instance_normalise(torch.from_numpy(films_va[:16]).unsqueeze(1)))[3].numpy()
    if not np.allclose(d_graph, d_va[:16], atol=1e-2):
        raise SystemExit(f"the graph's ood_distance does not use the refitted gate ({d_graph[:3]} vs {d_va[:3]})")
    k = int(math.ceil(0.99 * len(d_va)))
    thr = float(np.sort(d_va)[k - 1]) + 1e-6
    return {
        "oodDistanceThreshold": round(thr, 4),
        "thresholdRule": "ceil(0.99 n)-th smallest distance of the n validation films (keeps >= 99% of them)",
        "shrinkage": round(shrink, 4),
        "nTrain": len(train),
        "nValidation": len(val),
        "keptValidation": round(float((d_va <= thr).mean()), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--datasets", default=os.path.join(os.path.dirname(__file__), "../../../../shared/datasets"))
    ap.add_argument("--calibration", type=int, default=256)
    ap.add_argument("--out", default=None)
    ap.add_argument("--float-modules", default="", help="module names kept in float, comma-separated")
    ap.add_argument("--per-channel", action="store_true", help="per-channel weight scales with histogram activation observers")
    ap.add_argument("--activation-headroom", type=float, default=2.0,
                    help="activation ranges seen in calibration are widened by this factor (films of other body parts exceed them)")
    ap.add_argument("--keep-fp32-gate", action="store_true", help="export fp32's gate constants instead of refitting them")
    ap.add_argument("--cache-dir", default=None, help="decoded films cached here (data.load_images)")
    ap.add_argument("--gate-out", default=None, help="write the refitted gate's figures to this JSON file")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.quantized.engine = "qnnpack"
    torch.manual_seed(0)
    ck = torch.load(os.path.join(a.model, "model.pt"), map_location="cpu")
    sd = ck["state_dict"]
    widths = tuple(sd[f"backbone.blocks.{i}.c1.weight"].shape[0] for i in range(4))
    net = models.ChestNet(sd["fc.weight"].shape[0], widths=widths)
    net.load_state_dict(sd)
    net.eval()
    means, precision = gate_constants(os.path.join(a.model, "model.onnx"), sd["fc.weight"].shape[1])
    maha = models.Mahalanobis(torch.from_numpy(means), torch.from_numpy(precision))
    probe = body_part_probe(os.path.join(a.model, "model.onnx"))
    export = models.ChestExport(net, maha, probe).eval()  # the fp32 reference
    split = Int8Export(net, maha, probe).eval()
    with open(os.path.join(a.model, "model.json")) as f:
        manifest = json.load(f)
    size = manifest["input"]["size"]
    pid = manifest["preprocessing"]["id"]
    if pid not in PREPROCESS:
        raise SystemExit(f"calibration knows {sorted(PREPROCESS)}; the model reads {pid}")
    with open(os.path.join(a.model, "manifest.csv")) as f:
        train = [r for r in csv.DictReader(f) if r["split"] == "train"]
    rng = np.random.default_rng(0)
    pick = rng.choice(len(train), size=min(a.calibration, len(train)), replace=False)
    films = np.concatenate([PREPROCESS[pid](os.path.join(a.datasets, train[i]["path"]), size) for i in pick])

    from torch.ao.quantization import QConfigMapping, get_default_qconfig
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    qconfig = get_default_qconfig("qnnpack")
    if a.per_channel:
        from torch.ao.quantization import HistogramObserver, QConfig, default_per_channel_weight_observer

        qconfig = QConfig(
            activation=HistogramObserver.with_args(reduce_range=False),
            weight=default_per_channel_weight_observer,
        )
    from torch.ao.quantization.fx.custom_config import PrepareCustomConfig

    qmap = QConfigMapping().set_global(qconfig).set_module_name("head", None)
    for name in filter(None, a.float_modules.split(",")):
        qmap = qmap.set_module_name(name, None)
    example = torch.from_numpy(films[:4])
    # `head` is not traced: it runs as the float module it is, on the dequantised feature map.
    custom = PrepareCustomConfig().set_non_traceable_module_names(["head"])
    prepared = prepare_fx(split, qmap, (example,), prepare_custom_config=custom)
    with torch.no_grad():
        for i in range(0, len(films), 32):
            prepared(torch.from_numpy(films[i:i + 32]))
    for name, observer in prepared.named_modules():
        if "activation_post_process" in name and hasattr(observer, "max_val"):
            observer.max_val.mul_(a.activation_headroom)
            observer.min_val.mul_(a.activation_headroom)
    quantised = convert_fx(prepared).eval()
    with open(os.path.join(a.model, "manifest.csv")) as f:
        rows = list(csv.DictReader(f))
    gate = None
    if not a.keep_fp32_gate:
        refit = (refit_thresholds(quantised, rows, manifest, a.cache_dir) if probe is not None
                 else refit_gate(quantised, rows, manifest["classes"], size, a.cache_dir))
        gate = {"activationHeadroom": a.activation_headroom, **refit}
        print(json.dumps({"gate": gate}))
        if a.gate_out:
            with open(a.gate_out, "w") as f:
                json.dump(gate, f, indent=1)
    val = [r for r in rows if r["split"] == "val"][:64]
    held = torch.from_numpy(np.concatenate([PREPROCESS[pid](os.path.join(a.datasets, r["path"]), size) for r in val]))
    with torch.no_grad():
        ref = export(held)
        got = quantised(held)
    names = [o["name"] for o in manifest["outputs"]]
    for n, r, g in zip(names, ref, got):
        print(
            f"{n} on {len(val)} validation films: max |int8 - fp32| = {float((r - g).abs().max()):.4f}, "
            + ("(each with its own gate) " if n == "ood_distance" and gate else "")
            + f"median {float((r - g).abs().median()):.4f} (fp32 max {float(r.abs().max()):.4f})"
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
