"""CLI entry: train, calibrate, gate, evaluate and export one model version.

  /usr/bin/python3 src/training/python/train.py --task chest --manifest models/chest/v1/manifest.csv \
      --out models/chest/v1 --epochs 40 --time-budget-min 50

Writes <out>/model.onnx, <out>/model.json, <out>/MODEL_CARD.md (and keeps the manifest there);
the torch checkpoint goes to <checkpoint-dir>/model.pt (default <repo>/.cache/<task>/<version>, git-ignored)
and is copied beside model.onnx as model.pt.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate as cal  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
import models  # noqa: E402
import train_loop  # noqa: E402
import model_card  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NOTICE = "AI assistance; requires clinician review"
ADULT_SOURCES = ("nih", "tbx11k", "indian_da")
TARGET_RECALL = {"PNEUMONIA": 0.98, "TUBERCULOSIS": 0.98, "FRACTURE": 0.99}


def log(*a):
    print(f"[{dt.datetime.utcnow():%H:%M:%S}]", *a, flush=True)


def code_version() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src/training"], cwd=REPO, capture_output=True, text=True)
        if rev.returncode != 0 or not rev.stdout.strip():
            return "uncommitted"
        return rev.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "")
    except OSError:
        return "uncommitted"


def ood_images(size: int, cache_dir: str):
    import csv
    root = data.datasets_root()
    with open(os.path.join(root, "ood/labels.csv")) as fh:
        paths = ["ood/" + r["path"] for r in csv.DictReader(fh)]
    return paths, data.load_images(paths, size, cache_dir)


def bone_images(size: int, cache_dir: str, only_splits=None):
    rows = data.read_manifest(os.path.join(REPO, "models/wrist/v1/manifest.csv"))
    paths = [r.path for r in rows if only_splits is None or r.split in only_splits]
    return paths, data.load_images(paths, size, cache_dir)


def chest_test_images(size: int, cache_dir: str):
    rows = data.read_manifest(os.path.join(REPO, "models/chest/v1/manifest.csv"))
    paths = [r.path for r in rows if r.split == "test"]
    return paths, data.load_images(paths, size, cache_dir)


def r4(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["chest", "wrist"], required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--version", default=None)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--time-budget-min", type=float, default=None)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--samples-per-epoch", type=int, default=None, help="default: size of the train split")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir", default=os.path.join(REPO, ".cache", "imgs"))
    ap.add_argument("--checkpoint-dir", default=None)
    ap.add_argument("--smoke", action="store_true", help="a few batches, 1 epoch; writes to <out> anyway")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--body-part-probe", action="store_true",
                    help="chest only: add a 'not a chest' linear probe on the frozen embedding, trained with bone TRAIN-split "
                         "films as negatives; output not_chest_logit (the OOD photos stay unseen)")
    ap.add_argument("--init-backbone", default=None,
                    help="wrist: initialise the shared backbone from this chest model.pt (our own chest model; no downloaded weights)")
    ap.add_argument("--from-checkpoint", default=None,
                    help="skip training: load this model.pt and redo calibration, gate, metrics and export")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    version = a.version or os.path.basename(os.path.normpath(a.out))
    ckpt_dir = a.checkpoint_dir or os.path.join(REPO, ".cache", a.task, version + ("-smoke" if a.smoke else ""))
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(ckpt_dir, exist_ok=True)
    S = a.size
    classes = data.CHEST_CLASSES if a.task == "chest" else data.WRIST_CLASSES

    rows = data.read_manifest(a.manifest)
    manifest_sha = data.file_sha256(a.manifest)
    sources = sorted({r.source for r in rows})
    log(f"manifest {a.manifest} sha256={manifest_sha} rows={len(rows)} sources={sources}")
    t_load = time.time()
    imgs = data.load_images([r.path for r in rows], S, a.cache_dir)
    log(f"images {imgs.shape} in {time.time() - t_load:.1f}s")
    y_all = np.array([classes.index(r.label) for r in rows])
    s_all = np.array([sources.index(r.source) for r in rows])
    split = np.array([r.split for r in rows])

    def ds(mask):
        return data.FilmDataset(imgs[mask], y_all[mask], s_all[mask])

    train_m, val_m, test_m = split == "train", split == "val", split == "test"
    train_ds = ds(train_m)
    spe = a.samples_per_epoch or int(train_m.sum())
    if a.smoke:
        spe = a.batch_size * 3
    loader = data.make_train_loader(train_ds, a.batch_size, spe, a.seed)
    aug_cfg = data.AugConfig() if a.task == "chest" else data.AugConfig(rotate_deg=20.0, vflip=0.0, aspect=(0.85, 1.18))
    gen = torch.Generator().manual_seed(a.seed + 1)
    augment = lambda x: data.augment(x, aug_cfg, gen)  # noqa: E731

    if a.task == "chest":
        net = models.ChestNet(len(classes), widths=(32, 64, 128, 256))
        fwd = lambda m, x: m(data.torch_instance_normalise(x))[:2]  # noqa: E731
        step = train_loop.chest_step(augment)
    else:
        if a.init_backbone or (a.from_checkpoint and torch.load(a.from_checkpoint, map_location="cpu").get("arch_kwargs")):
            arch_kwargs = {"widths": (32, 64, 128, 256), "stem": 24}
        else:
            arch_kwargs = {}
        net = models.WristNet(len(classes), **arch_kwargs)
        if a.init_backbone:
            chest_sd = torch.load(a.init_backbone, map_location="cpu")["state_dict"]
            net.backbone.load_state_dict({k[len("backbone."):]: v for k, v in chest_sd.items() if k.startswith("backbone.")})
            log(f"backbone initialised from {a.init_backbone}")
        def fwd(m, x):  # pseudo-study at evaluation: the same film as PA and lateral
            xn = data.torch_instance_normalise(x)
            lo, emb, _, _ = m(xn, xn)
            return lo, emb
        step = train_loop.wrist_step(augment)
    log(f"params {models.n_params(net)}")

    val_ds = ds(val_m)
    val_loader = data.make_eval_loader(val_ds)
    adult_idx = [sources.index(s) for s in ADULT_SOURCES if s in sources]

    def evaluate(model):
        out = cal.collect(model, val_loader, fwd)
        p = cal.softmax(out["logits"])
        def macro(mask):
            vals = [cal.auroc(p[mask, k], out["y"][mask] == k) for k in range(len(classes))]
            vals = [v for v in vals if not math.isnan(v)]
            return float(np.mean(vals)) if vals else float("nan")
        allm = np.ones(len(p), bool)
        rec = {"val_macro_auroc": round(macro(allm), 4),
               "val_nll": round(float(-np.log(p[np.arange(len(p)), out["y"]] + 1e-12).mean()), 4)}
        if a.task == "chest":
            rec["val_adult_macro_auroc"] = round(macro(np.isin(out["src"], adult_idx)), 4)
            rec["score"] = 0.5 * rec["val_macro_auroc"] + 0.5 * rec["val_adult_macro_auroc"]
        else:
            rec["score"] = rec["val_macro_auroc"]
        return rec

    cfg = train_loop.LoopConfig(epochs=1 if a.smoke else a.epochs, lr=a.lr, weight_decay=a.weight_decay,
                                time_budget_s=a.time_budget_min * 60 if a.time_budget_min else None, seed=a.seed,
                                log_every=20)
    if a.from_checkpoint:
        ck = torch.load(a.from_checkpoint, map_location="cpu")
        net.load_state_dict(ck["state_dict"])
        res = train_loop.LoopResult(ck["epochs_run"], ck["seconds"], ck["history"])
        log(f"loaded {a.from_checkpoint}; skipping training")
    else:
        log(f"training: {cfg}")
        res = train_loop.train(net, loader, step, cfg, evaluate=evaluate, report=lambda r: log(json.dumps(r)))
        net.load_state_dict(res.best_state)
    net.eval()
    best_epoch = max((h for h in res.history if "score" in h), key=lambda h: h["score"])["epoch"]
    log(f"trained {res.epochs_run} epochs in {res.seconds:.0f}s; best epoch {best_epoch}")
    if not a.from_checkpoint:
        torch.save({"state_dict": net.state_dict(), "task": a.task, "classes": classes, "size": S,
                    "arch": type(net).__name__, "arch_kwargs": arch_kwargs if a.task == "wrist" else None, "epochs_run": res.epochs_run, "seconds": res.seconds,
                    "history": res.history, "args": vars(a)}, os.path.join(ckpt_dir, "model.pt"))

    # ---------------------------------------------------------------- collect clean outputs
    def run(images, labels=None, srcs=None):
        n = len(images)
        d = data.FilmDataset(images, labels if labels is not None else [0] * n, srcs if srcs is not None else [0] * n)
        return cal.collect(net, data.make_eval_loader(d), fwd)

    def single_emb(images):
        """Per-film backbone embedding (for the wrist per-view Mahalanobis)."""
        outs = []
        with torch.no_grad():
            for i in range(0, len(images), 128):
                x = data.torch_instance_normalise(torch.from_numpy(images[i:i + 128]).unsqueeze(1))
                outs.append(net.backbone(x).mean(dim=(2, 3)).numpy())
        return np.concatenate(outs)

    tr = run(imgs[train_m], y_all[train_m], s_all[train_m])
    va = run(imgs[val_m], y_all[val_m], s_all[val_m])
    te = run(imgs[test_m], y_all[test_m], s_all[test_m])

    # ---------------------------------------------------------------- OOD gate (Mahalanobis)
    _, ood_x = ood_images(S, a.cache_dir)
    if a.task == "chest":
        _, wrong_x = bone_images(S, a.cache_dir)
        emb_tr, emb_va, emb_te = tr["emb"], va["emb"], te["emb"]
        emb_ood, emb_wrong = run(ood_x)["emb"], run(wrong_x)["emb"]
        wrong_name = "bone (upper-limb radiographs, Roboflow/MURA-like, all 1237 films)"
    else:
        _, wrong_x = chest_test_images(S, a.cache_dir)
        emb_tr, emb_va, emb_te = single_emb(imgs[train_m]), single_emb(imgs[val_m]), single_emb(imgs[test_m])
        emb_ood, emb_wrong = single_emb(ood_x), single_emb(wrong_x)
        wrong_name = "chest radiographs (chest manifest test split)"
    means, prec, shrink = cal.fit_mahalanobis(emb_tr, tr["y"])
    d_va, d_te = cal.mahalanobis_np(emb_va, means, prec), cal.mahalanobis_np(emb_te, means, prec)
    d_ood, d_wrong = cal.mahalanobis_np(emb_ood, means, prec), cal.mahalanobis_np(emb_wrong, means, prec)
    # threshold: keeps >= 99% of real validation films (order statistic ceil(0.99 n))
    k = int(math.ceil(0.99 * len(d_va)))
    gate_thr = float(np.sort(d_va)[k - 1]) * 1.0 + 1e-6
    def gate_auc(d_in, d_out):
        return cal.auroc(np.concatenate([d_in, d_out]), np.r_[np.zeros(len(d_in)), np.ones(len(d_out))])
    auc_notxr = cal.auroc(np.concatenate([d_te, d_ood]), np.r_[np.zeros(len(d_te)), np.ones(len(d_ood))])
    auc_wrong = gate_auc(d_te, d_wrong)
    gate = {
        "signal": "ood_distance",
        "method": "Mahalanobis distance of the penultimate (global-average-pooled) embedding to the training films: "
                  "minimum over class means, shared Ledoit-Wolf shrinkage covariance; constants baked into the ONNX graph"
                  + (" (wrist: per view, max over PA and lateral)" if a.task == "wrist" else ""),
        "oodDistanceThreshold": round(gate_thr, 4),
        "rejectIf": "ood_distance > oodDistanceThreshold",
        "thresholdRule": "ceil(0.99 n)-th smallest distance of the n validation films (keeps >= 99% of them)",
        "shrinkage": round(shrink, 4),
        "embeddingDim": int(emb_tr.shape[1]),
        "keptValidation": r4((d_va <= gate_thr).mean()),
        "keptTest": r4((d_te <= gate_thr).mean()),
        "aurocNotRadiograph": r4(auc_notxr),
        "aurocNotRadiographSet": f"shared/datasets/ood: all {len(d_ood)} images in its labels.csv (SOURCE.md says 55, the folder holds 33; never used for training or threshold choice) vs test films",
        "rejectedNotRadiograph": r4((d_ood > gate_thr).mean()),
        "aurocWrongBodyPart": r4(auc_wrong),
        "aurocWrongBodyPartSet": wrong_name + " vs test films",
        "rejectedWrongBodyPart": r4((d_wrong > gate_thr).mean()),
        "nValidation": int(len(d_va)), "nTest": int(len(d_te)), "nNotRadiograph": int(len(d_ood)),
        "nWrongBodyPart": int(len(d_wrong)),
    }
    log("gate", json.dumps(gate))
    probe = None
    if a.task == "chest" and a.body_part_probe:
        wrows = data.read_manifest(os.path.join(REPO, "models/wrist/v1/manifest.csv"))
        bone_split = np.array([r.split for r in wrows])
        bone_tr = bone_split == "train"
        probe = models.fit_linear_probe(emb_tr, emb_wrong[bone_tr])
        with torch.no_grad():
            lg = lambda e: probe(torch.from_numpy(np.asarray(e, np.float32)))[:, 0].numpy()  # noqa: E731
            l_va, l_te, l_ood, l_wrong = lg(emb_va), lg(emb_te), lg(emb_ood), lg(emb_wrong)
        # both rules at the 99.5% point of validation films so that the union keeps >= 99%
        kk = int(math.ceil(0.995 * len(d_va)))
        gate_thr = float(np.sort(d_va)[kk - 1]) + 1e-6
        probe_thr = float(np.sort(l_va)[kk - 1]) + 1e-6
        held = ~bone_tr
        rej = lambda d, l: (d > gate_thr) | (l > probe_thr)  # noqa: E731
        gate.update({
            "oodDistanceThreshold": round(gate_thr, 4),
            "thresholdRule": "each rule at the ceil(0.995 n)-th smallest value of the n validation films; the union keeps >= 99%",
            "rejectIf": "ood_distance > oodDistanceThreshold OR not_chest_logit > notChestLogitThreshold",
            "notChestLogitThreshold": round(probe_thr, 4),
            "notChestProbe": "linear logistic probe on the frozen embedding: chest TRAIN films vs bone TRAIN-split films "
                             f"({int(bone_tr.sum())}); evaluated on the {int(held.sum())} held-out bone films (other stems)",
            "keptValidation": r4((~rej(d_va, l_va)).mean()),
            "keptTest": r4((~rej(d_te, l_te)).mean()),
            "aurocNotRadiograph": r4(auc_notxr),
            "rejectedNotRadiograph": r4(rej(d_ood, l_ood).mean()),
            "aurocWrongBodyPart": r4(gate_auc(l_te, l_wrong[held])),
            "aurocWrongBodyPartSet": f"held-out bone films ({int(held.sum())}, stems not used by the probe) vs chest test films, not_chest_logit",
            "aurocWrongBodyPartDistanceOnly": r4(gate_auc(d_te, d_wrong[held])),
            "rejectedWrongBodyPart": r4(rej(d_wrong[held], l_wrong[held]).mean()),
            "rejectedNotRadiographByDistanceOnly": r4((d_ood > gate_thr).mean()),
            "aurocNotRadiographProbeOnly": r4(gate_auc(l_te, l_ood)),
            "nWrongBodyPart": int(held.sum()),
        })
        log("gate with probe", json.dumps(gate))

    # ---------------------------------------------------------------- calibration
    if a.task == "chest":
        cal_mask = np.isin(va["src"], adult_idx)
        cal_name = "val split, adult sources only (nih, tbx11k, indian_da)"
    else:
        cal_mask = np.ones(len(va["y"]), bool)
        cal_name = "val split (Roboflow 'valid' stems)"
    cl, cy = va["logits"][cal_mask], va["y"][cal_mask]
    T = cal.fit_temperature(cl, cy)
    p_cal_raw, p_cal = cal.softmax(cl), cal.softmax(cl, T)
    p_te_raw, p_te = cal.softmax(te["logits"]), cal.softmax(te["logits"], T)
    calib = {"temperature": round(T, 4), "calibrationSet": cal_name, "nCalibration": int(cal_mask.sum()),
             "eceBins": 15,
             "eceCalibrationBefore": r4(cal.ece(p_cal_raw, cy)), "eceCalibrationAfter": r4(cal.ece(p_cal, cy)),
             "eceTestBefore": r4(cal.ece(p_te_raw, te["y"])), "eceTestAfter": r4(cal.ece(p_te, te["y"]))}
    log("calibration", json.dumps(calib))

    thresholds = {}
    for cname, target in TARGET_RECALL.items():
        if cname not in classes:
            continue
        c = classes.index(cname)
        pos = p_cal[cy == c, c]
        t = cal.conformal_recall_threshold(pos, target)
        st_cal = cal.binary_stats(p_cal[:, c] >= t["value"], cy == c)
        st_te = cal.binary_stats(p_te[:, c] >= t["value"], te["y"] == c)
        thresholds[cname] = {
            "value": round(t["value"], 6), "targetRecall": target,
            "method": "conformal order statistic: floor(alpha (n+1))-th smallest calibrated positive-class probability "
                      "among the n calibration positives (alpha = 1 - targetRecall)",
            "nCalibrationPositives": t["n"], "orderStatisticK": t["k"], "guarantee": t["guarantee"],
            **({"note": t["note"]} if "note" in t else {}),
            "calibrationRecall": r4(st_cal["recall"]), "calibrationSpecificity": r4(st_cal["specificity"]),
            "testRecall": r4(st_te["recall"]), "testSpecificity": r4(st_te["specificity"]),
            "appliesTo": f"softmax(logits / temperature)[{c}] >= value",
        }
    log("thresholds", json.dumps(thresholds))

    # ---------------------------------------------------------------- test metrics with bootstrap CIs
    yt, st = te["y"], te["src"]
    nb = 50 if a.smoke else a.n_boot
    metrics = {"set": "test split", "n": int(len(yt)), "bootstrap": {"resamples": nb, "ci": "percentile 95%"},
               "aurocPerClass": {}, "atThresholds": {}, "ece": None, "perSource": {}}
    for k_, cname in enumerate(classes):
        if a.task == "wrist" and k_ == 0:
            continue
        metrics["aurocPerClass"][cname] = cal.bootstrap_ci(lambda i: cal.auroc(p_te[i, k_], yt[i] == k_), len(yt), nb)
    if a.task == "chest":
        metrics["aurocAbnormalVsNormal"] = cal.bootstrap_ci(lambda i: cal.auroc(1 - p_te[i, 0], yt[i] != 0), len(yt), nb)
    for cname, t in thresholds.items():
        c = classes.index(cname)
        pred = p_te[:, c] >= t["value"]
        m = {}
        for key in ("recall", "specificity", "ppv", "npv"):
            m[key] = cal.bootstrap_ci(lambda i, key=key: cal.binary_stats(pred[i], yt[i] == c)[key], len(yt), nb)
        m["counts"] = {k2: v for k2, v in cal.binary_stats(pred, yt == c).items() if k2 in ("tp", "fn", "tn", "fp")}
        metrics["atThresholds"][cname] = m
    metrics["ece"] = {"before": cal.bootstrap_ci(lambda i: cal.ece(p_te_raw[i], yt[i]), len(yt), nb),
                      "after": cal.bootstrap_ci(lambda i: cal.ece(p_te[i], yt[i]), len(yt), nb)}
    metrics["accuracy"] = cal.bootstrap_ci(lambda i: float((p_te[i].argmax(1) == yt[i]).mean()), len(yt), nb)
    for si, sname in enumerate(sources):
        msk = st == si
        if not msk.any():
            continue
        idx = np.flatnonzero(msk)
        ps, ys = p_te[idx], yt[idx]
        entry = {"n": int(len(idx)), "labels": {classes[k2]: int((ys == k2).sum()) for k2 in range(len(classes)) if (ys == k2).any()}}
        for cname, t in thresholds.items():
            c = classes.index(cname)
            pred = ps[:, c] >= t["value"]
            e = {}
            if (ys == c).any():
                e["recall"] = cal.bootstrap_ci(lambda i: cal.binary_stats(pred[i], ys[i] == c)["recall"], len(ys), nb)
            if (ys != c).any():
                e["specificity"] = cal.bootstrap_ci(lambda i: cal.binary_stats(pred[i], ys[i] == c)["specificity"], len(ys), nb)
            if (ys == c).any() and (ys != c).any():
                e["auroc"] = cal.bootstrap_ci(lambda i: cal.auroc(ps[i, c], ys[i] == c), len(ys), nb)
            entry[cname] = e
        if a.task == "chest" and (ys == 0).any() and (ys != 0).any():
            entry["aurocAbnormalVsNormal"] = cal.bootstrap_ci(lambda i: cal.auroc(1 - ps[i, 0], ys[i] != 0), len(ys), nb)
        entry["accuracy"] = r4((ps.argmax(1) == ys).mean())
        metrics["perSource"][sname] = entry
    if a.task == "chest":
        adult = np.isin(st, adult_idx)
        metrics["adultTestSubset"] = {
            "n": int(adult.sum()),
            "aurocTuberculosisVsRest": cal.bootstrap_ci(lambda i: cal.auroc(p_te[adult][i, 2], yt[adult][i] == 2), int(adult.sum()), nb),
            "aurocPneumoniaVsRest": cal.bootstrap_ci(lambda i: cal.auroc(p_te[adult][i, 1], yt[adult][i] == 1), int(adult.sum()), nb),
        }
        # the only same-hospital adult TB-vs-normal comparison: Indian DA, val + test together (n=30)
        p_va_cal = cal.softmax(va["logits"], T)
        ii = sources.index("indian_da")
        pp = np.concatenate([p_va_cal[va["src"] == ii], p_te[st == ii]])
        yy = np.concatenate([va["y"][va["src"] == ii], yt[st == ii]])
        ni = sources.index("nih")
        pn = np.concatenate([p_va_cal[va["src"] == ni], p_te[st == ni]])
        yn = np.concatenate([va["y"][va["src"] == ni], yt[st == ni]])
        metrics["withinHospital"] = {
            "note": "same-hospital comparisons that cannot be solved by recognising the source; val films were also used "
                    "for checkpoint selection and calibration, so these are optimistic",
            "indianDaTuberculosisVsNormalAuroc": cal.bootstrap_ci(lambda i: cal.auroc(pp[i, 2], yy[i] == 2), len(yy), nb),
            "nihPneumoniaVsNormalAuroc": cal.bootstrap_ci(lambda i: cal.auroc(pn[i, 1], yn[i] == 1), len(yn), nb),
            "nihTuberculosisFalsePositiveRate": r4((pn[:, 2] >= thresholds["TUBERCULOSIS"]["value"]).mean()),
        }
    log("metrics", json.dumps(metrics))

    # ---------------------------------------------------------------- ONNX export + check
    maha = models.Mahalanobis(torch.from_numpy(means), torch.from_numpy(prec))
    onnx_path = os.path.join(a.out, "model.onnx")
    if a.task == "chest":
        wrapper = models.ChestExport(net, maha, probe).eval()
        in_names, out_names = ["image"], ["logits", "embedding", "cam", "ood_distance"] + (["not_chest_logit"] if probe else [])
        sample = {"image": torch.from_numpy(np.stack([data.instance_normalise(im) for im in imgs[test_m][:4]])[:, None])}
    else:
        wrapper = models.WristExport(net, maha).eval()
        in_names, out_names = ["pa", "lateral"], ["logits", "embedding", "cam_pa", "cam_lateral", "ood_distance"]
        xs = torch.from_numpy(np.stack([data.instance_normalise(im) for im in imgs[test_m][:4]])[:, None])
        sample = {"pa": xs, "lateral": xs.flip(0)}
    export.export_onnx(wrapper, list(sample.values()), in_names, out_names, onnx_path)
    check = export.verify_with_node(wrapper, onnx_path, sample, REPO, iters=30 if a.smoke else 200, threads=1)
    check["onnxBytes"] = os.path.getsize(onnx_path)
    log("onnx check", json.dumps(check))
    with torch.no_grad():
        shapes = {n: list(t.shape) for n, t in zip(out_names, wrapper(*sample.values()))}
    h = shapes[out_names[2]][2]
    out_shapes = ({"logits": ["N", 3], "embedding": ["N", shapes["embedding"][1]], "cam": ["N", 3, h, h], "ood_distance": ["N"],
                   "not_chest_logit": ["N"]}
                  if a.task == "chest" else
                  {"logits": ["N", 2], "embedding": ["N", shapes["embedding"][1]], "cam_pa": ["N", 2, h, h],
                   "cam_lateral": ["N", 2, h, h], "ood_distance": ["N"]})

    # ---------------------------------------------------------------- model.json + card
    counts = data.manifest_counts(rows)
    hp = {"inputSize": S, "batchSize": a.batch_size, "samplesPerEpoch": spe, "lr": a.lr, "weightDecay": a.weight_decay,
          "optimizer": "AdamW", "schedule": "linear warmup + cosine over max(step fraction, time-budget fraction)",
          "epochsRequested": cfg.epochs, "timeBudgetMin": a.time_budget_min, "bestEpoch": best_epoch,
          "checkpointSelection": "best validation score" + (" (0.5 macro AUROC all val + 0.5 macro AUROC adult val)" if a.task == "chest" else " (val AUROC)"),
          "sampling": "class-balanced, and source-balanced within class (WeightedRandomSampler, with replacement)",
          "augmentation": aug_cfg.__dict__,
          "architecture": ("CompactResNet (2 stride-2 stem convs, 4 residual stages, BatchNorm, GAP) + dropout + linear"
                           if a.task == "chest" else
                           "shared CompactResNet backbone on PA and lateral; concatenated GAP embeddings -> MLP; "
                           "per-view auxiliary linear head (loss weight 0.3) supplies CAM weights"),
          }
    if a.task == "wrist":
        hp["backboneInit"] = (f"chest model backbone ({a.init_backbone}), then fine-tuned" if a.init_backbone
                              else "random (from scratch)")
        hp["pseudoStudies"] = "PA and lateral inputs are two independent random augmentations of the SAME film (no real view pairs exist in the data)"
    manifest = {
        "name": f"care-companion-{a.task}",
        "task": a.task,
        "version": version,
        "createdAt": dt.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
        "notice": NOTICE,
        "classes": classes,
        "input": ({"names": ["image"]} if a.task == "chest" else {"names": ["pa", "lateral"]}) |
                 {"size": S, "channels": 1, "layout": "NCHW", "dtype": "float32", "shape": ["N", 1, S, S]},
        "preprocessing": {"id": data.PREPROCESSING_ID, "steps": data.preprocessing_spec(S)},
        "outputs": [{"name": n, "shape": out_shapes[n]} for n in out_names],
        "postprocessing": {"probabilities": "softmax(logits / temperature)",
                           "cam": "class activation maps = classifier weights . last conv features (no bias), "
                                  f"{h}x{h}, upsample to the input size for display"},
        "temperature": round(T, 6),
        "calibration": calib,
        "thresholds": thresholds,
        "gate": gate,
        "trainingData": {"manifestSha256": manifest_sha, "manifestPath": os.path.relpath(os.path.abspath(a.manifest), REPO),
                         "counts": counts},
        "training": {"epochs": res.epochs_run, "seconds": round(res.seconds, 1), "params": models.n_params(net),
                     "torchVersion": torch.__version__, "codeVersion": code_version(), "seed": a.seed,
                     "device": f"cpu ({a.threads} threads)", "hyperparameters": hp, "history": res.history,
                     "checkpoint": "model.pt (PyTorch state_dict beside model.onnx)"},
        "onnx": {"opset": export.OPSET, "dynamicBatch": True, "constantsFolded": True, "check": check},
        "metrics": metrics,
    }
    manifest.update(model_card.card(a.task, manifest))
    # The PyTorch weights travel with the ONNX graph: parity checks and fine-tuning from a parent need them.
    if os.path.abspath(os.path.join(ckpt_dir, "model.pt")) != os.path.abspath(os.path.join(a.out, "model.pt")):
        shutil.copyfile(os.path.join(ckpt_dir, "model.pt"), os.path.join(a.out, "model.pt"))
    with open(os.path.join(a.out, "model.json"), "w") as fh:
        json.dump(manifest, fh, indent=2, allow_nan=False)
        fh.write("\n")
    with open(os.path.join(a.out, "MODEL_CARD.md"), "w") as fh:
        fh.write(model_card.markdown(manifest))
    log(f"wrote {a.out}/model.json, model.onnx, MODEL_CARD.md")


if __name__ == "__main__":
    main()
