"""Model card text (model.json `modelCard`, `intendedUse`, `knownLimitations`) and MODEL_CARD.md."""
from __future__ import annotations

import json


def _v(m):
    if not m or m.get("value") is None:
        return "n/a"
    ci = m.get("ci95")
    return f"{m['value']:.3f}" + (f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else "")


CHEST_LIMITS = [
    "Trained from scratch on 5.5k films from four public sources whose labels are confounded with source, age and view: "
    "most normals and all pneumonia of one source are children (Kermany), most TB is one adult source (TBX11K).",
    "Only 72 training films (Indian DA) contain adult TB and adult normals from the same hospital; the TB detector may still partly "
    "recognise TBX11K-style films rather than TB. Per-source results are reported; treat adult TB performance on new hospitals as unknown.",
    "NIH pneumonia labels are report-mined and noisy; Kermany pneumonia is paediatric; neither represents adult community-acquired pneumonia well.",
    "The nih and indian_da test films were carved (by patient) from their train splits because those sources ship no test split; "
    "the indian_da test subset is tiny, so its CIs are wide.",
    "Temperature and thresholds were fitted on adult validation films that were also used for checkpoint selection; test results are the unbiased ones.",
    "The recall guarantee of the thresholds holds only for films exchangeable with the calibration films (same sources); it does not transfer to other hospitals.",
    "The OOD gate was checked on 55 non-radiograph images and on upper-limb radiographs only; other body parts, CT scouts, or "
    "heavily post-processed chest films were not tested.",
    "Images are not EXIF-rotated and lateral chest views were not in training; the model assumes a frontal (PA/AP) chest film.",
    "Not validated clinically; for research and pipeline development only.",
]

WRIST_LIMITS = [
    "Labels are WEAK: FRACTURE means the Roboflow export has at least one box on the image (any upper-limb region: elbow, fingers, forearm, "
    "humerus, shoulder, wrist), MURA-style 'abnormal' that includes orthopaedic hardware; it is NOT a verified fracture and not wrist-specific.",
    "NO_FRACTURE means an empty Roboflow label file, which is not a verified negative.",
    "No true two-view studies exist in the data: each pseudo-study feeds two independent augmentations of ONE film as 'PA' and 'lateral' in "
    "training, and the same film twice at evaluation. The fusion has never seen a real lateral view.",
    "The images appear to be Stanford MURA derivatives including Roboflow rotation augmentations; licence/terms may restrict use.",
    "Small data (864 training films) and a from-scratch network: performance numbers are for pipeline testing only.",
    "Not for clinical use.",
]


def card(task: str, m: dict) -> dict:
    g = m["gate"]
    th = m["thresholds"]
    met = m["metrics"]
    if task == "chest":
        lines = [
            f"Care Companion chest model {m['version']} ({m['name']}): a compact CNN ({m['training']['params']:,} parameters) trained from scratch "
            f"on {m['input']['size']}x{m['input']['size']} grayscale chest radiographs to flag PNEUMONIA and TUBERCULOSIS (classes: {', '.join(m['classes'])}).",
            "Data: Kermany (paediatric pneumonia/normal), TBX11K (adult TB), NIH ChestX-ray14 (adult normal/pneumonia, noisy labels), "
            "Indian DA (adult TB and normal). Sampling was class- and source-balanced with strong augmentation to reduce shortcut learning.",
            f"Test AUROC: PNEUMONIA {_v(met['aurocPerClass'].get('PNEUMONIA'))}, TUBERCULOSIS {_v(met['aurocPerClass'].get('TUBERCULOSIS'))}.",
            f"Operating points (calibrated probability, conformal order statistic on {m['calibration']['calibrationSet']}): "
            + "; ".join(f"{k} >= {v['value']:.4g} (target recall {v['targetRecall']}, {v['guarantee']}; test recall {v['testRecall']}, "
                        f"test specificity {v['testSpecificity']})" for k, v in th.items()) + ".",
            f"Input gate: reject if ood_distance > {g['oodDistanceThreshold']} (AUROC not-a-radiograph {g['aurocNotRadiograph']}, "
            f"wrong body part {g['aurocWrongBodyPart']}).",
            "These numbers come from internal splits of public data; performance on films from other hospitals is unknown and likely lower. "
            "AI assistance; requires clinician review.",
        ]
        use = ("Research and engineering use inside Care Companion: a second reader that flags frontal chest radiographs of adults and "
               "children for possible pneumonia or tuberculosis for a clinician to review. Not a diagnosis; not cleared for clinical use. "
               "AI assistance; requires clinician review.")
        limits = list(CHEST_LIMITS)
        ps = met.get("perSource", {})
        found = []
        for src, cname, key in (("nih", "PNEUMONIA", "specificity"), ("kermany", "PNEUMONIA", "specificity"),
                                ("indian_da", "TUBERCULOSIS", "specificity"), ("nih", "TUBERCULOSIS", "specificity")):
            e = ps.get(src, {}).get(cname, {}).get(key)
            if e and e.get("value") is not None:
                found.append(f"{cname} {key} on {src} test films {_v(e)}")
        if found:
            limits.insert(0, "Measured cost of the high-recall operating points (test, per source): " + "; ".join(found)
                          + ". Adult normals are flagged often: expect many false positives on adult films.")
    else:
        lines = [
            f"Care Companion wrist model {m['version']} ({m['name']}): a two-view network (shared compact CNN backbone on 'pa' and 'lateral', "
            f"embeddings concatenated -> MLP, {m['training']['params']:,} parameters) trained from scratch for pipeline testing.",
            "Labels are weak: FRACTURE = the Roboflow 'Bone Fracture Detection' export has at least one box on the film (MURA-style abnormal, "
            "any upper-limb region, includes hardware), NO_FRACTURE = empty label file. These are NOT verified fractures and NOT verified negatives.",
            "There are no real PA/lateral pairs: pseudo-studies are two augmentations of the same film.",
            f"Test AUROC (weak labels): {_v(met['aurocPerClass'].get('FRACTURE'))}. Threshold FRACTURE >= {th['FRACTURE']['value']:.4g} "
            f"({th['FRACTURE']['guarantee']}).",
            f"Input gate: reject if ood_distance > {g['oodDistanceThreshold']}.",
            "This model is for pipeline testing, not clinical use. AI assistance; requires clinician review.",
        ]
        use = ("Pipeline testing of the two-view wrist path (inputs, fusion, CAMs, gate, thresholds). NOT for clinical use and not a fracture "
               "detector. AI assistance; requires clinician review.")
        limits = list(WRIST_LIMITS)
        e = met.get("atThresholds", {}).get("FRACTURE", {}).get("specificity")
        if e and e.get("value") is not None:
            limits.insert(0, f"At the recall-0.99 operating point the test specificity (weak labels) is {_v(e)}.")
        g = m["gate"]
        limits.insert(1, f"The wrist input gate is weak: ood_distance AUROC {g['aurocNotRadiograph']} for non-radiograph images "
                         f"(rejects {g['rejectedNotRadiograph']} of them at the threshold) and {g['aurocWrongBodyPart']} for chest "
                         f"films (rejects {g['rejectedWrongBodyPart']}); the backbone was initialised from the chest model, so chest "
                         "films look in-distribution. Do not rely on it to route body parts; the chest model's gate and an explicit "
                         "body-part check must come first.")
        limits.insert(2, "A first attempt trained from scratch (smaller backbone, lr 2e-3) stayed at chance (val AUROC about 0.5 "
                         "after 7 epochs) and was stopped; the shipped weights start from the chest backbone and were fine-tuned "
                         f"for {m['training']['epochs']} epochs within an 11-minute budget, still improving when stopped.")
    return {"modelCard": "\n".join(lines), "intendedUse": use, "knownLimitations": limits}


def markdown(m: dict) -> str:
    out = [f"# Model card: {m['name']} {m['version']}", "", f"> {m['notice']}", "", "## Summary", "", m["modelCard"], "",
           "## Intended use", "", m["intendedUse"], "", "## Known limitations", ""]
    out += [f"- {x}" for x in m["knownLimitations"]]
    out += ["", "## Input and preprocessing", "", f"`{m['preprocessing']['id']}`; inputs {m['input']['names']} "
            f"[N,1,{m['input']['size']},{m['input']['size']}] float32 NCHW.", ""]
    out += [f"{i + 1}. **{s['name']}** `{json.dumps(s['params'])}`" for i, s in enumerate(m["preprocessing"]["steps"])]
    out += ["", "## Outputs", ""] + [f"- `{o['name']}` {o['shape']}" for o in m["outputs"]]
    out += ["", "## Calibration", "", "```json", json.dumps(m["calibration"], indent=2), "```",
            "", "## Thresholds", "", "```json", json.dumps(m["thresholds"], indent=2), "```",
            "", "## Input gate", "", "```json", json.dumps(m["gate"], indent=2), "```",
            "", "## Test metrics", "", "```json", json.dumps(m["metrics"], indent=2), "```",
            "", "## Training data", "", f"Manifest sha256 `{m['trainingData']['manifestSha256']}`", "", "```json",
            json.dumps(m["trainingData"]["counts"], indent=2), "```",
            "", "## Training", "", "```json",
            json.dumps({k: v for k, v in m["training"].items() if k != "history"}, indent=2), "```", ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------
# Chest v2: the card leads with what a hospital we never trained on should expect (LOSO)
# ------------------------------------------------------------------------------------------------

def _pct(v):
    return "n/a" if v is None else f"{100 * v:.0f}%"


def card_v2(m: dict) -> dict:
    import recipe
    lo = m["loso"]
    pl = lo.get("pooled", {})
    rule = m["training"]["hyperparameters"].get("thresholdRule") or next(iter(pl.get("rules", {"worst-source": {}})))
    th, g, met = m["thresholds"], m["gate"], m["metrics"]
    pr = pl.get("rules", {}).get(rule, {})
    worst = min((e["aurocAbnormal"]["value"], n) for n, e in lo["folds"].items() if e.get("aurocAbnormal", {}).get("value") is not None)
    lines = [
        f"Care Companion chest model {m['version']} ({m['name']}): a compact CNN ({m['training']['params']:,} parameters) trained from scratch "
        f"on {m['input']['size']}x{m['input']['size']} histogram-equalised grayscale chest radiographs to flag PNEUMONIA and TUBERCULOSIS "
        f"for a clinician's review (classes: {', '.join(m['classes'])}). Parent: {m['lineage']['parentVersion']}.",
        "What a new hospital should expect (leave-one-source-out: each hospital scored by a model trained without it): "
        f"abnormal-vs-normal AUROC {_v(pl.get('aurocAbnormal'))} pooled over {', '.join(pl.get('folds', []))}; worst hospital "
        f"{worst[1]} at {worst[0]:.3f}; at the shipped threshold rule ({rule}) recall {_v(pr.get('recall'))} and specificity "
        f"{_v(pr.get('specificity'))}. The 98% recall target is NOT guaranteed at a new hospital: validate on local films "
        "(site validation) and set the site's own operating point before relying on it.",
        "Data: Kermany (paediatric), TBX11K (adult TB), NIH ChestX-ray14 + RSNA readers' normals (adults), Indian DA (adult TB and normal), "
        "COVID-19 Radiography Database (adult COVID-19 pneumonia). Recipe: histogram equalisation, edge/marker occlusion augmentation, "
        "class-balanced sampling with sources at n^0.5 shares within a class, and a class-conditional source adversary.",
        "Operating points (calibrated probability, rule on the validation split of every source): "
        + "; ".join(f"{k} >= {v['value']:.4g} (internal test recall {v['testRecall']}, specificity {v['testSpecificity']})" for k, v in th.items()) + ".",
        f"Input gate: NOT_A_RADIOGRAPH if ood_distance > {g['oodDistanceThreshold']}, WRONG_BODY_PART if not_target_logit > "
        f"{g['notTargetLogitThreshold']}; refuses {_pct(g['rejectedNotRadiograph'])} of non-radiographs, {_pct(g['rejectedWrongBodyPart'])} "
        f"of leg/hip/shoulder films, keeps {_pct(g['keptTest'])} of internal test films.",
        "AI assistance; requires clinician review.",
    ]
    use = ("A second reader that flags frontal (PA/AP) chest radiographs of adults and children for possible pneumonia or tuberculosis "
           "for a clinician to review, at a site that has validated it on its own films. Not a diagnosis; not cleared for clinical use. "
           "AI assistance; requires clinician review.")
    limits = [
        "The recall guarantee of the thresholds holds for films exchangeable with a calibration source; at a hospital not in "
        "training the LOSO table is the expectation, with its intervals, and a site operating point is needed for a guarantee.",
        "LOSO folds were trained on a shorter schedule than the shipped model (see loso.recipe); the shipped model sees every source, "
        "so its own performance at a new hospital is expected to be at least the LOSO figures, not proven.",
        "Only Indian DA has adult TB and adult normals from one hospital (104 films); TB performance at a new hospital rests on it.",
        "NIH pneumonia labels are report-mined and noisy; COVID-19 films (one region, abnormal only) carry text markers; RSNA and COVID "
        "films have no patient ids, so their internal splits are not patient-level.",
        "Lateral views, CT scouts and paediatric films outside 1-5 years were not in training; the gate was checked on 33 non-radiograph "
        "images, FracAtlas leg/hip/shoulder/hand films and upper-limb films only.",
        "Not validated clinically; for research and engineering use.",
    ]
    return {"modelCard": "\n".join(lines), "intendedUse": use, "knownLimitations": limits}


def markdown_v2(m: dict) -> str:
    import recipe
    out = [f"# Model card: {m['name']} {m['version']}", "", f"> {m['notice']}", "",
           "## What a hospital we never trained on should expect (leave-one-source-out)", "",
           "Each row: the recipe trained without that hospital, then scored on every one of its films. "
           "This table, not the internal test split, is how the model was chosen.", "",
           recipe.loso_markdown(m["loso"]), "",
           "## Summary", "", m["modelCard"], "", "## Intended use", "", m["intendedUse"], "", "## Known limitations", ""]
    out += [f"- {x}" for x in m["knownLimitations"]]
    br = m["loso"].get("breakdown")
    if br:
        out += ["", "## LOSO by age group and view", "", "| group | n | abnormal AUROC | flagged recall | flagged specificity |", "|---|---|---|---|---|"]
        for k, e in br.items():
            out.append(f"| {k} | {e['n']} | {recipe._fmt(e.get('aurocAbnormal'))} | {e.get('recall', '–')} | {e.get('specificity', '–')} |")
    out += ["", "## Internal test split by source (reported beside v1's; not used for choices)", "",
            "| source | n | abnormal AUROC | flagged recall | flagged specificity |", "|---|---|---|---|---|"]
    for k, e in m["metrics"]["perSource"].items():
        out.append(f"| {k} | {e['n']} | {recipe._fmt(e.get('aurocAbnormalVsNormal'))} | {e.get('flaggedRecall', '–')} | {e.get('flaggedSpecificity', '–')} |")
    out += ["", "## Input and preprocessing", "", f"`{m['preprocessing']['id']}`; inputs {m['input']['names']} "
            f"[N,1,{m['input']['size']},{m['input']['size']}] float32 NCHW.", ""]
    out += [f"{i + 1}. **{s['name']}** `{json.dumps(s['params'])}`" for i, s in enumerate(m["preprocessing"]["steps"])]
    out += ["", "## Outputs", ""] + [f"- `{o['name']}` {o['shape']}" for o in m["outputs"]]
    out += ["", "## Lineage", "", "```json", json.dumps(m["lineage"], indent=2), "```",
            "", "## Calibration", "", "```json", json.dumps(m["calibration"], indent=2), "```",
            "", "## Thresholds", "", "```json", json.dumps(m["thresholds"], indent=2), "```",
            "", "## Input gate", "", "```json", json.dumps(m["gate"], indent=2), "```",
            "", "## Internal test metrics", "", "```json", json.dumps(m["metrics"], indent=2), "```",
            "", "## Training data", "", f"Manifest sha256 `{m['trainingData']['manifestSha256']}`", "", "```json",
            json.dumps(m["trainingData"]["counts"], indent=2), "```",
            "", "## Training", "", "```json",
            json.dumps({k: v for k, v in m["training"].items() if k != "history"}, indent=2), "```", ""]
    return "\n".join(out)
