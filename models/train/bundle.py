"""Window-model bundle: every window model of a version in one ONNX graph.

Why: the service runs all window models for each window. One session run instead of one per family
saves onnxruntime-node's per-run cost (input/output tensors, the native call, its setImmediate) three
times per window; bench:detect measures it. The graph is the families' graphs side by side on the
shared input `features`, every other name prefixed `<family>__`, so each output equals the family's own
file exactly (the TypeScript parity test runs the committed vectors through both).

    /usr/bin/python3 models/train/bundle.py [--models models] [--version V ...]

adds `windowBundle` {path, sha256, families, outputs} to those manifest versions (default: all) and
writes `models/<profile>/<version>/window-bundle.onnx`. train.py calls `bundle()` for the version it
trains. Deterministic: the same files give the same bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os

import onnx
from onnx import helper

INPUT = "features"


def bundle(files: dict[str, str], out_path: str) -> dict[str, dict[str, str]]:
    """Merges the models in `files` ({family: path}, in this order) into out_path.

    Returns {family: {original output name: bundled output name}}.
    """
    nodes, initializers, outputs, opsets = [], [], [], {}
    graph_input, ir_version, renamed = None, 0, {}
    for family, path in files.items():
        model = onnx.load(path)
        g = model.graph
        if [i.name for i in g.input] != [INPUT]:
            raise ValueError(f"{path}: expected the single input '{INPUT}', has {[i.name for i in g.input]}")
        graph_input = graph_input or g.input[0]
        ir_version = max(ir_version, model.ir_version)

        def name(n: str, family: str = family) -> str:
            return n if n in (INPUT, "") else f"{family}__{n}"

        for k, node in enumerate(g.node):
            node.name = name(node.name or f"node{k}")
            node.input[:] = [name(n) for n in node.input]
            node.output[:] = [name(n) for n in node.output]
            nodes.append(node)
        for t in g.initializer:
            t.name = name(t.name)
            initializers.append(t)
        renamed[family] = {}
        for o in g.output:
            renamed[family][o.name] = name(o.name)
            o.name = name(o.name)
            outputs.append(o)
        for o in model.opset_import:
            opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
    graph = helper.make_graph(nodes, "window-bundle", [graph_input], outputs, initializers)
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
                               producer_name="models/train/bundle.py")
    merged.ir_version = ir_version
    onnx.checker.check_model(merged)
    onnx.save(merged, out_path)
    return renamed


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def bundle_version(models_dir: str, version: dict) -> dict:
    """Writes the version's window bundle next to its window models; returns the manifest entry."""
    specs = version["models"]
    families = [f for f in ("rf", "xgb", "helm", "lr") if f in specs]
    rel = os.path.join(os.path.dirname(specs[families[0]]["path"]), "window-bundle.onnx")
    renamed = bundle({f: os.path.join(models_dir, specs[f]["path"]) for f in families}, os.path.join(models_dir, rel))
    return {
        "path": rel,
        "sha256": sha256(os.path.join(models_dir, rel)),
        "families": families,
        "outputs": {f: {c: renamed[f][o] for c, o in specs[f]["outputs"].items()} for f in families},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--version", action="append", help="version(s) to bundle (default: every version)")
    args = ap.parse_args()
    mpath = os.path.join(args.models, "manifest.json")
    with open(mpath) as f:
        manifest = json.load(f)
    for v in manifest["versions"]:
        if args.version and v["version"] not in args.version:
            continue
        v["windowBundle"] = bundle_version(args.models, v)
        print(f"{v['version']}: {v['windowBundle']['path']} ({', '.join(v['windowBundle']['families'])})")
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
