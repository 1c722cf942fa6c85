"""Ship a chest model with the v2 recipe (`recipe.py`): train on every source, calibrate, gate, evaluate,
export, and write model.json / MODEL_CARD.md with the LOSO table first.

  /usr/bin/python3 src/training/python/chest_v2.py --manifest models/chest/v2/manifest.csv --out models/chest/v2 \
      --loso models/chest/v2/loso --epochs 16 --parent v1

The LOSO folds (`loso.py`) must have been run with the same recipe flags; their summary decides nothing here
except what the card says a new hospital should expect, and the threshold rule (`--threshold-rule`) is the one
the LOSO table supports.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate as cal  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
import models  # noqa: E402
import recipe  # noqa: E402

NOTICE = "AI assistance; requires clinician review"
CLASSES = data.CHEST_CLASSES
NOT_TARGET = "not_target_logit"


def log(*a):
    print(f"[{dt.datetime.utcnow():%H:%M:%S}]", *a, flush=True)


def r4(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--loso", required=True, help="folder with loso.json (loso.py output)")
    ap.add_argument("--version", default=None)
    ap.add_argument("--parent", default="v1", help="the version this one replaces (lineage)")
    ap.add_argument("--parent-loso", default=None,
                    help="loso.json folder of the parent's recipe run through the same folds: the promotion gate")
    ap.add_argument("--epochs", type=int, default=16, help="epochs of 9,000 sampled films")
    ap.add_argument("--time-budget-min", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--threshold-rule", default="loso-calibrated", choices=["loso-calibrated", "conformal", "worst-source"],
                    help="loso-calibrated: conformal at the target the LOSO folds showed keeps >= 90%% recall at every "
                         "held-out hospital (loso.json losoCalibratedRule)")
    ap.add_argument("--gate-quantile", type=float, default=0.99)
    ap.add_argument("--ood-margin", type=float, default=1.5)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--cache-dir", default=os.path.join(recipe.REPO, ".cache", "imgs"))
    ap.add_argument("--from-checkpoint", default=None, help="skip training; redo everything after it")
    recipe.add_recipe_args(ap)
    return ap.parse_args(argv)


def main(argv=None) -> None:
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    rc = recipe.config_from_args(a)
    version = a.version or os.path.basename(os.path.normpath(a.out))
    os.makedirs(a.out, exist_ok=True)
    rows = data.read_manifest(a.manifest)
    manifest_sha = data.file_sha256(a.manifest)
    sources = sorted({r.source for r in rows})
    imgs = data.load_images([r.path for r in rows], rc.size, a.cache_dir)
    y = np.array([CLASSES.index(r.label) for r in rows])
    s = np.array([sources.index(r.source) for r in rows])
    split = np.array([r.split for r in rows])
    tr_m, va_m, te_m = split == "train", split == "val", split == "test"
    tr_m &= ~np.isin(np.array([r.source for r in rows]), rc.exclude_sources)
    log(f"manifest {manifest_sha[:12]} rows {len(rows)} train {int(tr_m.sum())} val {int(va_m.sum())} test {int(te_m.sum())}")

    ckpt_path = os.path.join(a.out, "model.pt")
    if a.from_checkpoint:
        ck = torch.load(a.from_checkpoint, map_location="cpu")
        net = models.ChestNet(len(CLASSES), **ck["arch_kwargs"])
        net.load_state_dict(ck["state_dict"])
        net.eval()
        epochs, seconds, history = ck["epochs_run"], ck["seconds"], ck["history"]
        if os.path.abspath(a.from_checkpoint) != os.path.abspath(ckpt_path):
            shutil.copyfile(a.from_checkpoint, ckpt_path)
    else:
        fit = recipe.train_chest(imgs[tr_m], y[tr_m], s[tr_m], imgs[va_m], y[va_m], s[va_m], len(sources), rc,
                                 epochs=a.epochs, seed=a.seed, log=log, minutes=a.time_budget_min, source_names=sources)
        net, epochs, seconds, history = fit.net, fit.epochs, fit.seconds, fit.history
        tmp = ckpt_path + ".tmp"
        torch.save({"state_dict": net.state_dict(), "task": "chest", "classes": CLASSES, "size": rc.size,
                    "arch": "ChestNet", "arch_kwargs": {"widths": tuple(rc.widths)},
                    "preprocessing": data.PREPROCESSING_ID_V2, "recipe": rc.__dict__, "epochs_run": epochs,
                    "seconds": seconds, "history": history, "args": vars(a)}, tmp)
        os.replace(tmp, ckpt_path)
    log(f"trained {epochs} epochs in {seconds:.0f}s")

    va = recipe.score(net, imgs[va_m], rc)
    te = recipe.score(net, imgs[te_m], rc)
    rng = np.random.default_rng(a.seed)
    tr_idx = np.sort(rng.choice(np.flatnonzero(tr_m), min(4000, int(tr_m.sum())), replace=False))
    tr = recipe.score(net, imgs[tr_idx], rc)
    aux = {k: recipe.score(net, v, rc)["emb"] for k, v in recipe.gate_sets(rc.size, a.cache_dir).items()}

    # ------------------------------------------------------------ calibration and thresholds
    T = cal.fit_temperature(va["logits"], y[va_m])
    p_va, p_te = cal.softmax(va["logits"], T), cal.softmax(te["logits"], T)
    calib = {"temperature": round(T, 4), "calibrationSet": "val split, every source", "nCalibration": int(va_m.sum()),
             "eceBins": 15, "eceCalibrationBefore": r4(cal.ece(cal.softmax(va["logits"]), y[va_m])),
             "eceCalibrationAfter": r4(cal.ece(p_va, y[va_m])),
             "eceTestBefore": r4(cal.ece(cal.softmax(te["logits"]), y[te_m])), "eceTestAfter": r4(cal.ece(p_te, y[te_m]))}
    with open(os.path.join(a.loso, "loso.json")) as fh:
        loso = json.load(fh)
    target = recipe.TARGET_RECALL
    rule = a.threshold_rule
    if rule == "loso-calibrated":
        target = loso["losoCalibratedRule"]["target"]
        if target is None:
            raise SystemExit("loso.json has no LOSO-calibrated target (no rule kept 90% recall at every held-out hospital)")
        rule = f"conformal@{target}"
    thr = recipe.rule_thresholds(p_va, y[va_m], s[va_m], rule)
    new_site = loso.get("pooled", {}).get("rules", {}).get(a.threshold_rule)
    thresholds = {}
    for name, value in thr.items():
        c = CLASSES.index(name)
        pos_m = y[va_m] == c
        per_source = {sources[k]: int((pos_m & (s[va_m] == k)).sum()) for k in np.unique(s[va_m][pos_m])}
        st_cal = cal.binary_stats(p_va[:, c] >= value, y[va_m] == c)
        st_te = cal.binary_stats(p_te[:, c] >= value, y[te_m] == c)
        conf = cal.conformal_recall_threshold(p_va[pos_m, c], target)
        thresholds[name] = {
            "value": round(float(value), 6), "targetRecall": target, "productTargetRecall": recipe.TARGET_RECALL,
            "method": ("worst-source conformal: the smallest, over calibration sources with >= 20 positives, of the "
                       "floor(alpha (n_s+1))-th smallest calibrated probability among that source's n_s positives (alpha = 1 - target)"
                       if a.threshold_rule == "worst-source" else
                       "conformal order statistic: floor(alpha (n+1))-th smallest calibrated positive-class probability among the n "
                       "calibration positives (alpha = 1 - target)"
                       + ("; target chosen by LOSO: the lowest one that kept >= 90% recall at every held-out hospital"
                          if a.threshold_rule == "loso-calibrated" else "")),
            "nCalibrationPositives": int(pos_m.sum()), "calibrationPositivesBySource": per_source,
            "guarantee": (f"{conf['guarantee']} (films like the calibration films); at a hospital not in training the LOSO "
                          "expectation holds instead (see newSiteExpectation), and the product's 98% target needs a site "
                          "operating point (npm run site:calibrate)"),
            **({"newSiteExpectation": {"pooledLosoRecall": new_site.get("recall"),
                                       "pooledLosoSpecificity": new_site.get("specificity")}} if new_site else {}),
            "calibrationRecall": r4(st_cal["recall"]), "calibrationSpecificity": r4(st_cal["specificity"]),
            "testRecall": r4(st_te["recall"]), "testSpecificity": r4(st_te["specificity"]),
            "appliesTo": f"softmax(logits / temperature)[{c}] >= value",
        }
    log("thresholds", json.dumps(thresholds))

    # ------------------------------------------------------------ input gate
    means, prec, shrink = cal.fit_mahalanobis(tr["emb"], y[tr_idx])
    dist = lambda e: cal.mahalanobis_np(e, means, prec)  # noqa: E731
    fit_other, eval_other = recipe.other_halves(aux["other"])
    probe = models.fit_linear_probe(tr["emb"], np.concatenate([aux["bone"], aux["hand_fit"], fit_other]))
    lg = lambda e: probe(torch.from_numpy(np.asarray(e, np.float32)))[:, 0].detach().numpy()  # noqa: E731
    d_va, l_va = dist(va["emb"]), lg(va["emb"])
    k = int(math.ceil(a.gate_quantile * len(d_va))) - 1
    d_thr = float(np.sort(d_va)[k]) * a.ood_margin
    l_thr = float(np.sort(l_va)[k])

    def refused(e):
        return (dist(e) > d_thr) | (lg(e) > l_thr)
    gate = {
        "signal": "ood_distance",
        "method": "NOT_A_RADIOGRAPH: Mahalanobis distance of the embedding to the training films (class means, shared "
                  "Ledoit-Wolf covariance); WRONG_BODY_PART: a linear probe on the same embedding (not_target_logit), chest "
                  "training films vs other radiographs (Roboflow bone, FracAtlas hand train+val, FracAtlas leg/hip/shoulder "
                  "even rows); constants baked into the ONNX graph",
        "oodDistanceThreshold": round(d_thr, 4),
        "notTargetLogitThreshold": round(l_thr, 4),
        "rejectIf": "ood_distance > oodDistanceThreshold (NOT_A_RADIOGRAPH), else not_target_logit > notTargetLogitThreshold (WRONG_BODY_PART)",
        "thresholdRule": f"distance: {a.ood_margin} x its {a.gate_quantile} quantile on validation films (the margin is what LOSO "
                         f"showed new hospitals need); probe: its {a.gate_quantile} quantile on validation films",
        "shrinkage": round(shrink, 4), "embeddingDim": int(tr["emb"].shape[1]),
        "keptValidation": r4(1 - refused(va["emb"]).mean()), "keptTest": r4(1 - refused(te["emb"]).mean()),
        "aurocNotRadiograph": r4(cal.auroc(np.r_[dist(te["emb"]), dist(aux["ood"])],
                                           np.r_[np.zeros(len(te["emb"])), np.ones(len(aux["ood"]))])),
        "rejectedNotRadiograph": r4((refused(aux["ood"]) | recipe.ood_colour()).mean()),
        "rejectedNotRadiographByModel": r4(refused(aux["ood"]).mean()),
        "colourRule": f"before the model: an image with mean |R-G|+|G-B| > {data.COLOUR_CHROMA_LIMIT} (8-bit units, at 64x64) is NOT_A_RADIOGRAPH",
        "aurocWrongBodyPart": r4(cal.auroc(np.r_[lg(te["emb"]), lg(eval_other)],
                                           np.r_[np.zeros(len(te["emb"])), np.ones(len(eval_other))])),
        "rejectedWrongBodyPart": r4(refused(eval_other).mean()),
        "wrongBodyPartSet": "FracAtlas leg/hip/shoulder films, odd rows (the even rows help fit the probe)",
        "rejectedWrongBodyPartAllOther": r4(refused(aux["other"]).mean()),
        "rejectedHandTest": r4(refused(aux["hand_test"]).mean()),
        "nValidation": int(len(d_va)), "nTest": int(len(te["emb"])), "nNotRadiograph": int(len(aux["ood"])),
        "nWrongBodyPart": int(len(aux["other"])),
    }
    log("gate", json.dumps(gate))

    # ------------------------------------------------------------ internal test metrics (not for model choice)
    metrics = test_metrics(p_te, y[te_m], s[te_m], sources, thresholds, a.n_boot)
    promotion = None
    if a.parent_loso:
        with open(os.path.join(a.parent_loso, "loso.json")) as fh:
            parent_loso = json.load(fh)
        cand = loso["pooled"]["aurocAbnormal"]["value"]
        par = parent_loso.get("pooled", {}).get("aurocAbnormal", {}).get("value")
        promotion = {"metric": "pooled LOSO abnormal-vs-normal AUROC (nih+rsna, indian_da, kermany held out in turn)",
                     "parent": par, "candidate": cand, "passed": bool(par is None or cand > par),
                     "parentRecipe": parent_loso.get("recipe"),
                     "parentFolds": {k: v.get("aurocAbnormal") for k, v in parent_loso["folds"].items()}}
    else:  # no comparison measured: not promoted by default (the registry keeps the parent in production)
        promotion = {"metric": "pooled LOSO abnormal-vs-normal AUROC (nih+rsna, indian_da, kermany held out in turn)",
                     "parent": None, "candidate": loso["pooled"]["aurocAbnormal"]["value"], "passed": False,
                     "reason": "the parent recipe's LOSO was not measured for this export (--parent-loso): it stays "
                               "STAGING until an admin canaries and promotes it on evidence"}

    # ------------------------------------------------------------ ONNX export
    maha = models.Mahalanobis(torch.from_numpy(means), torch.from_numpy(prec))
    wrapper = models.ChestExport(net, maha, probe).eval()
    onnx_path = os.path.join(a.out, "model.onnx")
    sample = torch.from_numpy(np.stack([data.instance_normalise(data.equalize_np(im)) for im in imgs[te_m][:4]])[:, None])
    out_names = ["logits", "embedding", "cam", "ood_distance", NOT_TARGET]
    export.export_onnx(wrapper, [sample], ["image"], out_names, onnx_path)
    check = export.verify_with_node(wrapper, onnx_path, {"image": sample}, recipe.REPO, iters=200, threads=1)
    check["onnxBytes"] = os.path.getsize(onnx_path)
    log("onnx check", json.dumps(check))
    with torch.no_grad():
        h = wrapper(sample)[2].shape[2]

    counts = data.manifest_counts(rows)
    m = {
        "name": "care-companion-chest", "task": "chest", "version": version,
        "createdAt": dt.datetime.utcnow().replace(microsecond=0).isoformat() + "Z", "notice": NOTICE,
        "classes": CLASSES,
        "input": {"names": ["image"], "size": rc.size, "channels": 1, "layout": "NCHW", "dtype": "float32",
                  "shape": ["N", 1, rc.size, rc.size]},
        "preprocessing": {"id": data.PREPROCESSING_ID_V2, "steps": data.preprocessing_spec_v2(rc.size)},
        "outputs": [{"name": "logits", "shape": ["N", 3]}, {"name": "embedding", "shape": ["N", int(tr["emb"].shape[1])]},
                    {"name": "cam", "shape": ["N", 3, h, h]}, {"name": "ood_distance", "shape": ["N"]},
                    {"name": NOT_TARGET, "shape": ["N"]}],
        "postprocessing": {"probabilities": "softmax(logits / temperature)",
                           "cam": f"class activation maps = classifier weights . last conv features (no bias), {h}x{h}"},
        "temperature": round(T, 6), "calibration": calib, "thresholds": thresholds, "gate": gate,
        "trainingData": {"manifestSha256": manifest_sha,
                         "manifestPath": os.path.relpath(os.path.abspath(a.manifest), recipe.REPO), "counts": counts},
        "lineage": {"parentVersion": a.parent, "dataManifestSha256": manifest_sha,
                    **({"promotionGate": promotion} if promotion else {}),
                    "losoSummary": os.path.relpath(os.path.join(os.path.abspath(a.loso), "loso.json"), os.path.abspath(a.out))},
        "training": {"epochs": int(epochs), "seconds": round(float(seconds), 1), "params": models.n_params(net),
                     "torchVersion": torch.__version__, "codeVersion": code_version(), "seed": a.seed,
                     "device": f"cpu ({a.threads} threads)", "samplesPerEpoch": 9000,
                     "hyperparameters": {**rc.__dict__, "widths": list(rc.widths), "optimizer": "AdamW",
                                         "thresholdRule": a.threshold_rule, "gateQuantile": a.gate_quantile,
                                         "oodMargin": a.ood_margin,
                                         "schedule": "linear warmup + cosine", "checkpointSelection": "last epoch (none on validation)",
                                         "sampling": "class-balanced; sources within a class at n^power shares",
                                         "augmentation": data.AugConfig().__dict__ | {"occlusion": rc.occlusion}},
                     "history": history, "checkpoint": "model.pt (PyTorch state_dict beside model.onnx)"},
        "onnx": {"opset": export.OPSET, "dynamicBatch": True, "constantsFolded": True, "check": check},
        "loso": loso,
        "metrics": metrics,
    }
    import model_card
    model_card.write_model_files(a.out, m, model_card.card_v2, model_card.markdown_v2)
    if os.path.abspath(a.manifest) != os.path.abspath(os.path.join(a.out, "manifest.csv")):
        shutil.copyfile(a.manifest, os.path.join(a.out, "manifest.csv"))
    log(f"wrote {a.out}/model.json, model.onnx, model.pt, MODEL_CARD.md")


def test_metrics(p, y, s, sources, thresholds, nb) -> dict:
    metrics = {"set": "test split (internal: partly measures how well the model recognises sources; see loso)",
               "n": int(len(y)), "bootstrap": {"resamples": nb, "ci": "percentile 95%"},
               "aurocPerClass": {}, "atThresholds": {}, "perSource": {}}
    for c, name in enumerate(CLASSES):
        metrics["aurocPerClass"][name] = cal.bootstrap_ci(lambda i: cal.auroc(p[i, c], y[i] == c), len(y), nb)
    metrics["aurocAbnormalVsNormal"] = cal.bootstrap_ci(lambda i: cal.auroc(1 - p[i, 0], y[i] != 0), len(y), nb)
    flag = np.zeros(len(y), bool)
    for name, t in thresholds.items():
        c = CLASSES.index(name)
        pred = p[:, c] >= t["value"]
        flag |= pred
        mm = {key: cal.bootstrap_ci(lambda i, key=key: cal.binary_stats(pred[i], y[i] == c)[key], len(y), nb)
              for key in ("recall", "specificity", "ppv", "npv")}
        mm["counts"] = {k: v for k, v in cal.binary_stats(pred, y == c).items() if k in ("tp", "fn", "tn", "fp")}
        metrics["atThresholds"][name] = mm
    metrics["flaggedForReview"] = {
        "recall": cal.bootstrap_ci(lambda i: cal.binary_stats(flag[i], y[i] != 0)["recall"], len(y), nb),
        "specificity": cal.bootstrap_ci(lambda i: cal.binary_stats(flag[i], y[i] != 0)["specificity"], len(y), nb)}
    metrics["ece"] = {"after": r4(cal.ece(p, y))}
    for k, name in enumerate(sources):
        m = s == k
        if not m.any():
            continue
        ps, ys, fs = p[m], y[m], flag[m]
        e = {"n": int(m.sum()), "labels": {CLASSES[c]: int((ys == c).sum()) for c in range(3) if (ys == c).any()}}
        if (ys == 0).any() and (ys != 0).any():
            e["aurocAbnormalVsNormal"] = cal.bootstrap_ci(lambda i: cal.auroc(1 - ps[i, 0], ys[i] != 0), len(ys), nb)
        if (ys != 0).any():
            e["flaggedRecall"] = r4(fs[ys != 0].mean())
        if (ys == 0).any():
            e["flaggedSpecificity"] = r4(1 - fs[ys == 0].mean())
        metrics["perSource"][name] = e
    return metrics


def code_version() -> str:
    import subprocess
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=recipe.REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src/training"], cwd=recipe.REPO, capture_output=True, text=True)
        return rev.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "") if rev.returncode == 0 else "uncommitted"
    except OSError:
        return "uncommitted"


if __name__ == "__main__":
    main()
