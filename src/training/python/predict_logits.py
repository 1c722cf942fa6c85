"""Print JSON logits of the torch checkpoint for image files (TS/Python parity test).

  /usr/bin/python3 src/training/python/predict_logits.py --task chest img1.png img2.jpg
  /usr/bin/python3 src/training/python/predict_logits.py --task wrist --lateral lat.png pa.png

Preprocessing is the checkpoint's (`preprocessing` key; default "gray-fill-bilinear-instnorm-v1",
`data.preprocess`; chest v2: `data.preprocess_v2`; wrist v2: `data.preprocess_v3`, whose per-view ensemble
also reports the mean body-part logit and the tissue crop box). Wrist: each file is used as PA;
the lateral view is --lateral if given, else the same file (as in evaluation). Output: one JSON object
{"task", "size", "classes", "checkpoint", "results": [{"file", "logits", "oodDistance"?}]}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import models  # noqa: E402


def load(task: str, checkpoint: str):
    ck = torch.load(checkpoint, map_location="cpu")
    if ck.get("arch") == "ViewEnsemble":  # wrist v2: per-view ensemble, members averaged
        return models.view_ensemble_from_checkpoint(ck), ck
    if task == "chest":
        net = models.ChestNet(len(ck["classes"]), **(ck.get("arch_kwargs") or {"widths": (32, 64, 128, 256)}))
    else:
        net = models.WristNet(len(ck["classes"]), **(ck.get("arch_kwargs") or {}))
    net.load_state_dict(ck["state_dict"])
    return net.eval(), ck


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["chest", "wrist"], required=True)
    ap.add_argument("--checkpoint", default=None, help="default models/<task>/v1/model.pt")
    ap.add_argument("--lateral", default=None)
    ap.add_argument("--preprocessed", action="store_true", help="also print the preprocessed tensor's mean/std/first values")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(2)
    ckpt = a.checkpoint or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "models", a.task, "v1", "model.pt")
    net, ck = load(a.task, ckpt)
    S = ck["size"]
    spec = ck.get("preprocessing") or data.PREPROCESSING_ID
    prep = {data.PREPROCESSING_ID: data.preprocess, data.PREPROCESSING_ID_V2: data.preprocess_v2,
            data.PREPROCESSING_ID_V3: data.preprocess_v3,
            data.PREPROCESSING_ID_V3_NOEQ: lambda f, size: data.preprocess_v3(f, size, equalize=False)}[spec]
    out = {"task": a.task, "size": S, "classes": ck["classes"], "checkpoint": ckpt,
           "preprocessing": spec, "results": []}
    with torch.no_grad():
        for f in a.files:
            x = torch.from_numpy(prep(f, S))
            extra = {}
            if isinstance(net, models.ViewEnsembleExport):
                outs = [n(x) for n in net.nets]
                logits = torch.stack([o[0] for o in outs]).mean(0)
                extra["notTargetLogit"] = float(net.not_target(x, outs).mean())
                extra["cropBox"] = data.tissue_crop_box(data.decode_gray01(f))
            elif a.task == "chest":
                logits = net(x)[0]
            else:
                lat = torch.from_numpy(prep(a.lateral, S)) if a.lateral else x
                logits = net(x, lat)[0]
            r = {"file": f, "logits": [float(v) for v in logits[0]], **extra}
            if a.preprocessed:
                r["tensor"] = {"mean": float(x.mean()), "std": float(x.std(unbiased=False)),
                               "first8": [float(v) for v in x.flatten()[:8]]}
            out["results"].append(r)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
