"""Window-model bundle: every window model of a version in one ONNX graph.

Why: the service runs all window models for each window. One session run instead of one per family
saves onnxruntime-node's per-run cost (input/output tensors, the native call, its setImmediate) three
times per window; bench:detect measures it. The graph is the families' graphs side by side on the
shared input `features`, every other name prefixed `<family>__`.

onnxruntime also pays per node, and the small dense nodes of helm and lr cost more than the trees. So their
per-component tails are rebuilt with fewer nodes from the same weights (`compact`): one matrix product and
one Split for all of lr's components instead of five products and four Slices, one scaling by the
temperatures and one Split for helm instead of four Slice/Mul pairs. The standardisation stays as it is
(folding it into the weights would cancel large terms in float32). Outputs equal the family's own file to
float32 rounding; the TypeScript parity test runs the committed Python vectors through both (< 1e-5).

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

import numpy as np
import onnx
from onnx import helper, numpy_helper

INPUT = "features"


def _outputs(model) -> list[str]:
    """Component names in output order (outputs are `<component>_probabilities`)."""
    return [o.name[: -len("_probabilities")] for o in model.graph.output]


def _weights(model) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def _rebuild(model, nodes, weights: dict[str, np.ndarray]):
    graph = helper.make_graph(nodes, model.graph.name, list(model.graph.input), list(model.graph.output),
                              [numpy_helper.from_array(v, k) for k, v in weights.items()])
    out = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name=model.producer_name)
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out


def _compact_lr(model):
    """export_onnx.lr_model's graph: p_c = [1 - s_c, s_c * softmax(z V_c + d_c)], s = sigmoid(z Wb + bb)."""
    w, comps = _weights(model), _outputs(model)
    if not all(k in w for k in ["mu", "inv_sd", "Wb", "bb"] + [f"{c}_V" for c in comps] + [f"{c}_d" for c in comps]):
        return None
    widths = [len(comps)] + [w[f"{c}_V"].shape[1] for c in comps]
    keep = {"mu": w["mu"], "inv_sd": w["inv_sd"], "one": np.array([1.0], dtype=np.float32),
            "W": np.concatenate([w["Wb"]] + [w[f"{c}_V"] for c in comps], axis=1).astype(np.float32),
            "b": np.concatenate([w["bb"]] + [w[f"{c}_d"] for c in comps]).astype(np.float32),
            "widths": np.array(widths, dtype=np.int64), "ones": np.ones(len(comps), dtype=np.int64)}
    n = helper.make_node
    nodes = [n("Sub", [INPUT, "mu"], ["zc"]), n("Mul", ["zc", "inv_sd"], ["z"]),
             n("MatMul", ["z", "W"], ["y0"]), n("Add", ["y0", "b"], ["y"]),
             n("Split", ["y", "widths"], ["lb"] + [f"{c}_l" for c in comps], axis=1),
             n("Sigmoid", ["lb"], ["sb"]), n("Sub", ["one", "sb"], ["hb"]),
             n("Split", ["sb", "ones"], [f"{c}_s" for c in comps], axis=1),
             n("Split", ["hb", "ones"], [f"{c}_h" for c in comps], axis=1)]
    for c in comps:
        nodes += [n("Softmax", [f"{c}_l"], [f"{c}_q"], axis=1), n("Mul", [f"{c}_q", f"{c}_s"], [f"{c}_dq"]),
                  n("Concat", [f"{c}_h", f"{c}_dq"], [f"{c}_probabilities"], axis=1)]
    return _rebuild(model, nodes, keep)


def _compact_helm(model):
    """export_onnx.helm_model's tail: p_c = softmax(tau_c * s[:, a_c:b_c]) with the slices covering s in order."""
    w, comps = _weights(model), _outputs(model)
    names = [f"{c}_{k}" for c in comps for k in ("start", "end", "tau")]
    tail = {f"{c}_{k}" for c in comps for k in ("start", "end", "axis", "tau")}
    if not all(k in w for k in names):
        return None
    bounds = [(int(w[f"{c}_start"][0]), int(w[f"{c}_end"][0])) for c in comps]
    if [a for a, _ in bounds] != [0] + [b for _, b in bounds[:-1]]:
        return None  # not a partition of s in component order
    mine = [node for node in model.graph.node
            if node.op_type in ("Slice", "Softmax") or (node.op_type == "Mul" and node.input[1] in tail)]
    if len(mine) != 3 * len(comps) or any(node.input[0] != "s" for node in mine if node.op_type == "Slice"):
        return None
    keep = {k: v for k, v in w.items() if k not in tail}
    keep["tau"] = np.concatenate([np.full(b - a, w[f"{c}_tau"], dtype=np.float32) for c, (a, b) in zip(comps, bounds)])
    keep["widths"] = np.array([b - a for a, b in bounds], dtype=np.int64)
    n = helper.make_node
    nodes = [node for node in model.graph.node if node not in mine]
    nodes += [n("Mul", ["s", "tau"], ["st"]), n("Split", ["st", "widths"], [f"{c}_st" for c in comps], axis=1)]
    nodes += [n("Softmax", [f"{c}_st"], [f"{c}_probabilities"], axis=1) for c in comps]
    return _rebuild(model, nodes, keep)


COMPACT = {"lr": _compact_lr, "helm": _compact_helm}


def compact(family: str, model):
    """The model with fewer nodes where its layout is known (else unchanged)."""
    rebuilt = COMPACT[family](model) if family in COMPACT else None
    return rebuilt if rebuilt is not None else model


def bundle(files: dict[str, str], out_path: str) -> dict[str, dict[str, str]]:
    """Merges the models in `files` ({family: path}, in this order) into out_path.

    Returns {family: {original output name: bundled output name}}.
    """
    nodes, initializers, outputs, opsets = [], [], [], {}
    graph_input, ir_version, renamed = None, 0, {}
    for family, path in files.items():
        model = compact(family, onnx.load(path))
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
