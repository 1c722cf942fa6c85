"""The original design's serving stack, as the peer of `npm run bench -- peer`: FastAPI + PyTorch.

One endpoint, `POST /predict` (multipart field `file`): decode the film with PIL, preprocess it under
the model's input contract (the trainer's own functions in src/training/python/data.py), run the
network in PyTorch, and answer JSON (calibrated probabilities, findings at the shipped thresholds, the
raw class-activation map). The network is the one the project ships: `model.pt` of the model folder
given with --model, loaded into its PyTorch class from src/training/python/models.py.

    /usr/bin/python3 bench/peer/server.py --model models/chest/v1 --port 8765

Runs one uvicorn worker; the endpoint is a plain `def`, so FastAPI runs it in its thread pool and
PyTorch (which releases the GIL) uses every core, as the original design served it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from fastapi import FastAPI, File, HTTPException, UploadFile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "src", "training", "python"))

import data  # noqa: E402  (the trainer's preprocessing)
import models  # noqa: E402  (the trainer's architectures)

PREPROCESS = {
    data.PREPROCESSING_ID: data.preprocess,
    data.PREPROCESSING_ID_V2: data.preprocess_v2,
    data.PREPROCESSING_ID_V3: data.preprocess_v3,
    data.PREPROCESSING_ID_V3_NOEQ: lambda b, s: data.preprocess_v3(b, s, equalize=False),
}


def load_network(model_dir: str) -> "tuple[torch.nn.Module, dict]":
    """model.pt into its PyTorch class (widths read from the weights), and model.json beside it."""
    with open(os.path.join(model_dir, "model.json")) as f:
        manifest = json.load(f)
    ck = torch.load(os.path.join(model_dir, "model.pt"), map_location="cpu")
    if ck.get("arch") != "ChestNet":
        raise SystemExit(f"peer serves ChestNet checkpoints; {model_dir} holds {ck.get('arch')}")
    sd = ck["state_dict"]
    widths = tuple(sd[f"backbone.blocks.{i}.c1.weight"].shape[0] for i in range(4))
    net = models.ChestNet(sd["fc.weight"].shape[0], widths=widths)
    net.load_state_dict(sd)
    net.eval()
    return net, manifest


def build_app(model_dir: str):
    net, manifest = load_network(model_dir)
    size = manifest["input"]["size"]
    prep_id = manifest["preprocessing"]["id"]
    if prep_id not in PREPROCESS:
        raise SystemExit(f"peer has no preprocessing {prep_id}")
    preprocess = PREPROCESS[prep_id]
    classes = manifest["classes"]
    temperature = float(manifest.get("temperature", 1.0))
    thresholds = {k: float(v["value"]) for k, v in manifest.get("thresholds", {}).items()}
    app = FastAPI()

    @app.get("/health")
    def health():
        return {"model": model_dir, "preprocessing": prep_id}

    @app.post("/predict")
    def predict(file: UploadFile = File(...)):
        try:
            x = preprocess(file.file.read(), size)
        except Exception as error:  # an unreadable film is the client's error
            raise HTTPException(status_code=400, detail=f"UNSUPPORTED_IMAGE: {type(error).__name__}")
        with torch.inference_mode():
            logits, _, features = net(torch.from_numpy(np.ascontiguousarray(x)).reshape(1, 1, size, size))
            cam = models.cam(features, net.fc)[0]
            p = torch.softmax(logits[0] / temperature, dim=0).tolist()
        probabilities = dict(zip(classes, p))
        findings = [c for c, t in thresholds.items() if probabilities.get(c, 0.0) >= t]
        top = max(probabilities, key=probabilities.get)
        return {
            "label": top,
            "probabilities": probabilities,
            "findings": findings,
            "cam": [round(v, 4) for v in cam[classes.index(top)].flatten().tolist()],
            "warning": "AI assistance, requires clinician review",
        }

    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="model folder holding model.pt and model.json")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    a = ap.parse_args()
    import uvicorn

    uvicorn.run(build_app(a.model), host=a.host, port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
