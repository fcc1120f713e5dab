"""Hand-written ONNX export (no skl2onnx): see DESIGN.md §9.

One ONNX file per model family; each file holds one node per component and has one float32 input
`features` [N, F] and one output `<component>_probabilities` [N, K] per component.
IR 8, opset 17 + ai.onnx.ml 3 (what onnxruntime-node 1.30 loads).
"""
from __future__ import annotations

import json
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _f32_floor(t: float) -> float:
    """Largest float32 <= t, so that (float32 x <= f) == (x <= t) for float32 x."""
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def rf_node(model, n_classes: int, component: str):
    """sklearn RandomForestClassifier -> TreeEnsembleClassifier (BRANCH_LEQ, leaf = value/sum/n_trees)."""
    n_trees = len(model.estimators_)
    classes = [int(c) for c in model.classes_]
    A = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "class_treeids", "class_nodeids",
                         "class_ids", "class_weights"]}
    for ti, est in enumerate(model.estimators_):
        tr = est.tree_
        for ni in range(tr.node_count):
            A["nodes_treeids"].append(ti)
            A["nodes_nodeids"].append(ni)
            left, right = int(tr.children_left[ni]), int(tr.children_right[ni])
            if left == -1:
                A["nodes_featureids"].append(0)
                A["nodes_values"].append(0.0)
                A["nodes_modes"].append("LEAF")
                A["nodes_truenodeids"].append(0)
                A["nodes_falsenodeids"].append(0)
                v = tr.value[ni][0]
                tot = float(v.sum())
                for ci, cnt in enumerate(v):
                    if cnt > 0:
                        A["class_treeids"].append(ti)
                        A["class_nodeids"].append(ni)
                        A["class_ids"].append(classes[ci])
                        A["class_weights"].append(float(cnt) / tot / n_trees)
            else:
                A["nodes_featureids"].append(int(tr.feature[ni]))
                A["nodes_values"].append(_f32_floor(float(tr.threshold[ni])))
                A["nodes_modes"].append("BRANCH_LEQ")
                A["nodes_truenodeids"].append(left)
                A["nodes_falsenodeids"].append(right)
    return helper.make_node(
        "TreeEnsembleClassifier", ["features"], [f"{component}_label", f"{component}_probabilities"],
        domain="ai.onnx.ml", name=f"rf_{component}",
        classlabels_int64s=list(range(n_classes)), post_transform="NONE", **A)


def xgb_node(booster, n_classes: int, component: str, present=None):
    """xgboost multi:softprob Booster (save_model JSON) -> TreeEnsembleClassifier (BRANCH_LT, SOFTMAX)."""
    raw = booster.save_raw("json")
    js = json.loads(bytes(raw).decode("utf-8"))
    learner = js["learner"]
    base_score = float(learner["learner_model_param"]["base_score"])
    gb = learner["gradient_booster"]["model"]
    trees, tree_info = gb["trees"], gb["tree_info"]
    A = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         "class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    for ti, t in enumerate(trees):
        lc, rc = t["left_children"], t["right_children"]
        for ni in range(len(lc)):
            A["nodes_treeids"].append(ti)
            A["nodes_nodeids"].append(ni)
            if lc[ni] == -1:
                A["nodes_featureids"].append(0)
                A["nodes_values"].append(0.0)
                A["nodes_modes"].append("LEAF")
                A["nodes_truenodeids"].append(0)
                A["nodes_falsenodeids"].append(0)
                A["nodes_missing_value_tracks_true"].append(0)
                A["class_treeids"].append(ti)
                A["class_nodeids"].append(ni)
                A["class_ids"].append(int(present[tree_info[ti]]) if present else int(tree_info[ti]))
                A["class_weights"].append(float(np.float32(t["split_conditions"][ni])))
            else:
                A["nodes_featureids"].append(int(t["split_indices"][ni]))
                A["nodes_values"].append(float(np.float32(t["split_conditions"][ni])))
                A["nodes_modes"].append("BRANCH_LT")
                A["nodes_truenodeids"].append(int(lc[ni]))
                A["nodes_falsenodeids"].append(int(rc[ni]))
                A["nodes_missing_value_tracks_true"].append(int(t["default_left"][ni]))
    return helper.make_node(
        "TreeEnsembleClassifier", ["features"], [f"{component}_label", f"{component}_probabilities"],
        domain="ai.onnx.ml", name=f"xgb_{component}",
        classlabels_int64s=list(range(n_classes)), post_transform="SOFTMAX",
        base_values=[base_score if (present is None or k in present) else -1e4 for k in range(n_classes)], **A)


def _model(nodes, initializers, n_features: int, outputs: dict, name: str):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(f"{c}_probabilities", TensorProto.FLOAT, [None, k]) for c, k in outputs.items()],
        initializer=initializers)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
                          producer_name="models/train", producer_version="1")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def trees_model(nodes_by_component: dict, n_features: int, n_classes: dict, name: str):
    return _model(list(nodes_by_component.values()), [], n_features, n_classes, name)


def helm_model(helm, n_features: int, n_classes: dict, name: str):
    p = helm.params32()
    init = [numpy_helper.from_array(p["mu"], "mu"), numpy_helper.from_array(p["inv_sd"], "inv_sd")]
    nodes = [helper.make_node("Sub", ["features", "mu"], ["z0c"]), helper.make_node("Mul", ["z0c", "inv_sd"], ["z0"])]
    cur = "z0"
    for i, W in enumerate(p["W"]):
        init.append(numpy_helper.from_array(W, f"W{i+1}"))
        nodes += [helper.make_node("MatMul", [cur, f"W{i+1}"], [f"a{i+1}"]), helper.make_node("Tanh", [f"a{i+1}"], [f"z{i+1}"])]
        cur = f"z{i+1}"
    init += [numpy_helper.from_array(p["R"], "R"), numpy_helper.from_array(p["r"], "r"),
             numpy_helper.from_array(p["B"], "B"), numpy_helper.from_array(p["c"], "c")]
    nodes += [helper.make_node("MatMul", [cur, "R"], ["e0"]), helper.make_node("Add", ["e0", "r"], ["e1"]),
              helper.make_node("Tanh", ["e1"], ["t"]), helper.make_node("Concat", ["t", cur], ["f"], axis=1),
              helper.make_node("MatMul", ["f", "B"], ["s0"]), helper.make_node("Add", ["s0", "c"], ["s"])]
    for comp in helm.components:
        a, b = helm.slices[comp]
        init += [numpy_helper.from_array(np.array([a], dtype=np.int64), f"{comp}_start"),
                 numpy_helper.from_array(np.array([b], dtype=np.int64), f"{comp}_end"),
                 numpy_helper.from_array(np.array([1], dtype=np.int64), f"{comp}_axis"),
                 numpy_helper.from_array(np.array(helm.tau[comp], dtype=np.float32), f"{comp}_tau")]
        nodes += [helper.make_node("Slice", ["s", f"{comp}_start", f"{comp}_end", f"{comp}_axis"], [f"{comp}_s"]),
                  helper.make_node("Mul", [f"{comp}_s", f"{comp}_tau"], [f"{comp}_st"]),
                  helper.make_node("Softmax", [f"{comp}_st"], [f"{comp}_probabilities"], axis=1)]
    return _model(nodes, init, n_features, n_classes, name)


def save(model, path: str) -> None:
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def lr_model(lr, n_features: int, n_classes: dict, name: str):
    """lr.HierLR -> Sub/Mul/MatMul/Add/Sigmoid/Slice/Softmax/Mul/Concat."""
    p = lr.params32()
    init = [numpy_helper.from_array(p["mu"], "mu"), numpy_helper.from_array(p["inv_sd"], "inv_sd"),
            numpy_helper.from_array(p["Wb"], "Wb"), numpy_helper.from_array(p["bb"], "bb"),
            numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")]
    nodes = [helper.make_node("Sub", ["features", "mu"], ["zc"]), helper.make_node("Mul", ["zc", "inv_sd"], ["z"]),
             helper.make_node("MatMul", ["z", "Wb"], ["lb0"]), helper.make_node("Add", ["lb0", "bb"], ["lb"]),
             helper.make_node("Sigmoid", ["lb"], ["sb"])]
    for i, comp in enumerate(lr.components):
        init += [numpy_helper.from_array(np.array([i], dtype=np.int64), f"{comp}_start"),
                 numpy_helper.from_array(np.array([i + 1], dtype=np.int64), f"{comp}_end"),
                 numpy_helper.from_array(np.array([1], dtype=np.int64), f"{comp}_axis"),
                 numpy_helper.from_array(p["V"][comp], f"{comp}_V"), numpy_helper.from_array(p["d"][comp], f"{comp}_d")]
        nodes += [helper.make_node("Slice", ["sb", f"{comp}_start", f"{comp}_end", f"{comp}_axis"], [f"{comp}_s"]),
                  helper.make_node("Sub", ["one", f"{comp}_s"], [f"{comp}_h"]),
                  helper.make_node("MatMul", ["z", f"{comp}_V"], [f"{comp}_l0"]),
                  helper.make_node("Add", [f"{comp}_l0", f"{comp}_d"], [f"{comp}_l"]),
                  helper.make_node("Softmax", [f"{comp}_l"], [f"{comp}_q"], axis=1),
                  helper.make_node("Mul", [f"{comp}_q", f"{comp}_s"], [f"{comp}_dq"]),
                  helper.make_node("Concat", [f"{comp}_h", f"{comp}_dq"], [f"{comp}_probabilities"], axis=1)]
    return _model(nodes, init, n_features, n_classes, name)
