"""CLI: build a training manifest (path,label,group,split,source) from the shared labels.csv.

  /usr/bin/python3 src/training/python/build_manifest.py --task chest --out models/chest/v1/manifest.csv
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["chest", "wrist"], required=True)
    ap.add_argument("--labels", default=None, help="labels.csv (default: shared chest/ or bone/)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    if a.task == "chest":
        info = data.build_chest_manifest(a.labels or os.path.join(data.datasets_root(), "chest/labels.csv"), a.out, a.seed)
    else:
        info = data.build_wrist_manifest(a.labels or os.path.join(data.datasets_root(), "bone/labels.csv"), a.out, a.seed)
    rows = data.read_manifest(a.out)
    info["counts"] = data.manifest_counts(rows)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
