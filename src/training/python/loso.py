"""Leave-one-source-out (LOSO) evaluation of the chest training recipe: what a hospital we never trained on
should expect.

For each fold (a hospital with both classes: nih+rsna, indian_da, kermany; optionally the abnormal-only
sources tbx11k and covid_radiography_db) the recipe in `recipe.py` is trained WITHOUT that hospital's films
(shorter schedule than the shipped model: --epochs-per-fold), calibrated and thresholded on the other sources'
validation films exactly as the shipped model is, and then scores every film of the held-out hospital (all
splits: none of them was seen). The fold's raw outputs go to <out>/fold_<name>.npz; `summarize()` turns them
into the LOSO table (<out>/loso.json, <out>/LOSO.md) without retraining.

  /usr/bin/python3 src/training/python/loso.py --manifest models/chest/v2/manifest.csv --out models/chest/v2/loso
  /usr/bin/python3 src/training/python/loso.py --out models/chest/v2/loso --summarize-only
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate as cal  # noqa: E402
import data  # noqa: E402
import recipe  # noqa: E402

FOLDS = {"nih+rsna": ("nih", "rsna"), "indian_da": ("indian_da",), "kermany": ("kermany",)}
ABNORMAL_ONLY_FOLDS = {"tbx11k": ("tbx11k",), "covid_radiography_db": ("covid_radiography_db",)}
ADULT = {"nih+rsna": True, "indian_da": True, "kermany": False, "tbx11k": True, "covid_radiography_db": True}


def log(*a):
    print(f"[{dt.datetime.utcnow():%H:%M:%S}]", *a, flush=True)


def run_fold(name: str, held: tuple, rows, imgs, y_all, s_all, split, sources, aux, rc: recipe.RecipeConfig,
             epochs: int, out: str, seed: int) -> None:
    src_names = np.array([r.source for r in rows])
    held_m = np.isin(src_names, held)
    excluded = np.isin(src_names, rc.exclude_sources)
    train_m = (~held_m) & (~excluded) & (split == "train")
    val_m = (~held_m) & (split == "val")
    log(f"fold {name}: train {int(train_m.sum())} val {int(val_m.sum())} held-out {int(held_m.sum())}")
    fit = recipe.train_chest(imgs[train_m], y_all[train_m], s_all[train_m], imgs[val_m], y_all[val_m], s_all[val_m],
                             n_sources=len(sources), cfg=rc, epochs=epochs, seed=seed, log=log, source_names=sources)
    net = fit.net
    va = recipe.score(net, imgs[val_m], rc)
    ho = recipe.score(net, imgs[held_m], rc)
    rng = np.random.default_rng(seed)
    tr_idx = np.flatnonzero(train_m)
    tr_idx = np.sort(rng.choice(tr_idx, min(3000, len(tr_idx)), replace=False))
    tr = recipe.score(net, imgs[tr_idx], rc)
    extra = {k: recipe.score(net, v, rc)["emb"] for k, v in aux.items()}
    np.savez_compressed(
        os.path.join(out, f"fold_{name}.npz"),
        held=np.array(held), sources=np.array(sources),
        val_logits=va["logits"], val_emb=va["emb"], val_y=y_all[val_m], val_src=s_all[val_m],
        held_logits=ho["logits"], held_emb=ho["emb"], held_y=y_all[held_m], held_src=s_all[held_m],
        held_paths=np.array([r.path for r, m in zip(rows, held_m) if m]),
        train_emb=tr["emb"], train_y=y_all[tr_idx], train_src=s_all[tr_idx],
        **{f"aux_{k}": v for k, v in extra.items()},
        epochs=fit.epochs, seconds=fit.seconds,
    )
    torch.save({"state_dict": net.state_dict(), "arch_kwargs": {"widths": tuple(rc.widths)}, "size": rc.size,
                "classes": data.CHEST_CLASSES, "preprocessing": data.PREPROCESSING_ID_V2 if rc.equalize else data.PREPROCESSING_ID,
                "held": list(held), "recipe": rc.__dict__}, os.path.join(out, f"fold_{name}.pt"))
    log(f"fold {name}: saved ({fit.epochs} epochs, {fit.seconds:.0f}s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--folds", default=",".join(FOLDS), help="comma list; also tbx11k, covid_radiography_db")
    ap.add_argument("--epochs-per-fold", type=int, default=7, help="epochs of 9,000 sampled films each")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir", default=os.path.join(recipe.REPO, ".cache", "imgs"))
    ap.add_argument("--summarize-only", action="store_true")
    ap.add_argument("--n-boot", type=int, default=500)
    recipe.add_recipe_args(ap)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.summarize_only:
        torch.set_num_threads(a.threads)
        rc = recipe.config_from_args(a)
        with open(os.path.join(a.out, "recipe.json"), "w") as fh:
            json.dump({"recipe": rc.__dict__, "epochsPerFold": a.epochs_per_fold, "samplesPerEpoch": 9000, "seed": a.seed,
                       "manifestSha256": data.file_sha256(a.manifest)}, fh, indent=1)
        rows = data.read_manifest(a.manifest)
        sources = sorted({r.source for r in rows})
        imgs = data.load_images([r.path for r in rows], rc.size, a.cache_dir)
        y_all = np.array([data.CHEST_CLASSES.index(r.label) for r in rows])
        s_all = np.array([sources.index(r.source) for r in rows])
        split = np.array([r.split for r in rows])
        aux = recipe.gate_sets(rc.size, a.cache_dir)
        all_folds = {**FOLDS, **ABNORMAL_ONLY_FOLDS}
        for name in a.folds.split(","):
            if os.path.exists(os.path.join(a.out, f"fold_{name}.npz")):
                log(f"fold {name}: already done")
                continue
            torch.manual_seed(a.seed)
            np.random.seed(a.seed)
            run_fold(name, all_folds[name], rows, imgs, y_all, s_all, split, sources, aux, rc,
                     a.epochs_per_fold, a.out, a.seed)
    summary = recipe.summarize_loso(a.out, n_boot=a.n_boot)
    with open(os.path.join(a.out, "loso.json"), "w") as fh:
        json.dump(summary, fh, indent=1, allow_nan=False)
        fh.write("\n")
    with open(os.path.join(a.out, "LOSO.md"), "w") as fh:
        fh.write(recipe.loso_markdown(summary))
    print(recipe.loso_markdown(summary))


if __name__ == "__main__":
    main()
