"""Final estimators to the "model" of a weir.model/1 bundle.

Dense models (LogisticRegression, the linear regressors, MLPs) keep their
float64 parameters; tree ensembles are written node by node with each
library's own comparison ("split"), missing-value direction and categorical
sets, so that libweir takes every row down the same path the library does.
@colmap gives, for every input column of the estimator, the bundle column it
is; a bundle column no input maps to gets no weight and no split.
"""
import json
import math

import numpy as np

from ._categories import category_string
from ._features import ExportError

__all__ = ["convert", "estimator_kind"]


def estimator_kind(est):
    """(library, class name) of a final estimator."""
    module = type(est).__module__.split(".")[0]
    return module, type(est).__name__


# ---------------------------------------------------------------- dense

def _spread(weights, colmap, width):
    """Rows of weights over the estimator's inputs → rows over the bundle's columns."""
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    out = np.zeros((weights.shape[0], width))
    for j, c in enumerate(colmap):
        out[:, c] += weights[:, j]
    return out


def _floats(a):
    return [float(v) for v in np.ravel(a)]


def _linear(est, colmap, width, task):
    coef = np.asarray(est.coef_, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))
    if task == "regression":
        if coef.ndim > 1 and coef.shape[0] != 1:
            raise ExportError(f"{type(est).__name__} with {coef.shape[0]} targets: weir scores one")
        return {"kind": "linear", "weights": _floats(_spread(coef.reshape(1, -1), colmap, width)),
                "bias": float(intercept[0])}
    if task == "binary":
        return {"kind": "logistic", "weights": _floats(_spread(coef, colmap, width)),
                "bias": float(intercept[0])}
    if coef.shape[0] != len(est.classes_):
        raise ExportError(f"{type(est).__name__}: one-vs-rest is not exported; multinomial is")
    return {"kind": "softmax", "weights": _spread(coef, colmap, width).tolist(),
            "bias": _floats(intercept)}


def _mlp(est, colmap, width, task):
    hidden = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "identity": "identity"}
    last = {"logistic": "sigmoid", "softmax": "softmax", "identity": "identity"}
    if est.activation not in hidden or est.out_activation_ not in last:
        raise ExportError(f"{type(est).__name__}: activation {est.activation!r}")
    if task == "regression" and est.n_outputs_ != 1:
        raise ExportError(f"{type(est).__name__} with {est.n_outputs_} targets: weir scores one")
    layers = []
    n = len(est.coefs_)
    for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        weights = np.asarray(w, dtype=np.float64).T
        if i == 0:
            weights = _spread(weights, colmap, width)
        layers.append({"weights": weights.tolist(), "bias": _floats(b),
                       "activation": last[est.out_activation_] if i == n - 1
                       else hidden[est.activation]})
    return {"kind": "mlp", "layers": layers}


# ---------------------------------------------------------------- trees

class _Tree:
    """Node arrays of one tree, in the bundle's layout."""

    def __init__(self, output=0):
        self.output = output
        self.feature, self.threshold, self.left, self.right = [], [], [], []
        self.missing_left, self.value = [], []
        self.category_nodes, self.category_sets = [], []

    def add(self):
        self.feature.append(-1)
        self.threshold.append(0.0)
        self.left.append(-1)
        self.right.append(-1)
        self.missing_left.append(0)
        self.value.append(0.0)
        return len(self.feature) - 1

    def to_json(self, scalar=True):
        out = {}
        if scalar and self.output:
            out["output"] = self.output
        out.update({"feature": self.feature, "threshold": self.threshold, "left": self.left,
                    "right": self.right, "value": self.value})
        if any(self.missing_left):
            out["missing_left"] = self.missing_left
        if self.category_nodes:
            out["category_nodes"] = self.category_nodes
            out["category_sets"] = self.category_sets
        return out


def _threshold(t):
    """A finite threshold with the same decisions: sklearn splits a feature's
    missing values from all of its numbers with an infinite threshold, and
    weir's values are never beyond a float's range."""
    t = float(t)
    if math.isinf(t):
        return math.copysign(1.7976931348623157e308, t)
    return t


def _sklearn_tree(tree, colmap, leaf, output=0):
    """A fitted sklearn Tree (tree_) → _Tree; @leaf(node) gives a leaf's value."""
    t = _Tree(output)
    n = tree.node_count
    missing = getattr(tree, "missing_go_to_left", None)
    for i in range(n):
        t.add()
        if tree.children_left[i] == -1:
            t.value[i] = leaf(i)
            continue
        t.feature[i] = int(colmap[tree.feature[i]])
        t.threshold[i] = _threshold(tree.threshold[i])
        t.left[i] = int(tree.children_left[i])
        t.right[i] = int(tree.children_right[i])
        t.missing_left[i] = int(missing[i]) if missing is not None else 0
    return t


def _trees_model(trees, *, split, link, base=None, average=False, leaf_width=1,
                 category_side="left"):
    model = {"kind": "trees"}
    if average:
        model["average"] = True
    model["split"] = split
    if category_side != "left":
        model["category_side"] = category_side
    model["link"] = link
    if base is not None:
        model["base"] = _floats(base)
    if leaf_width > 1:
        model["leaf_width"] = leaf_width
    model["trees"] = [t.to_json(scalar=leaf_width == 1) for t in trees]
    return model


def _forest(est, colmap, task):
    """DecisionTree, RandomForest and ExtraTrees: the mean of the trees."""
    estimators = [est] if not hasattr(est, "estimators_") else list(est.estimators_)
    if task != "regression" and getattr(est, "n_outputs_", 1) != 1:
        raise ExportError(f"{type(est).__name__} with several outputs")
    trees = []
    for e in estimators:
        tree = e.tree_
        values = tree.value[:, 0, :]
        if task == "regression":
            trees.append(_sklearn_tree(tree, colmap, lambda i: float(values[i, 0])))
            continue
        # predict_proba normalises each leaf's class weights (sum, then divide).
        normalizer = values.sum(axis=1)[:, np.newaxis]
        normalizer[normalizer == 0.0] = 1.0
        proba = values / normalizer
        if task == "binary":
            trees.append(_sklearn_tree(tree, colmap, lambda i: float(proba[i, 1])))
        else:
            trees.append(_sklearn_tree(tree, colmap, lambda i: _floats(proba[i])))
    width = 1 if task != "multiclass" else len(est.classes_)
    return _trees_model(trees, split="float32_less_equal", link="identity", average=True,
                        leaf_width=width)


def _gradient_boosting(est, colmap, task, X_est):
    """GradientBoostingClassifier/Regressor: init + learning_rate × Σ trees."""
    loss = getattr(est, "loss", None)
    if task != "regression" and loss not in ("log_loss", "deviance"):
        raise ExportError(f"{type(est).__name__}(loss={loss!r}): only log_loss has a link weir "
                          "has (sigmoid or softmax)")
    init = np.asarray(est._raw_predict_init(X_est[:1]), dtype=np.float64)[0]
    lr = float(est.learning_rate)
    trees = []
    for stage in est.estimators_:
        for k, e in enumerate(stage):
            values = e.tree_.value[:, 0, 0]
            trees.append(_sklearn_tree(e.tree_, colmap, lambda i: lr * float(values[i]), k))
    link = "identity" if task == "regression" else "sigmoid" if task == "binary" else "softmax"
    return _trees_model(trees, split="float32_less_equal", link=link, base=init)


def _hist_gradient_boosting(est, colmap, task):
    loss = est._loss.__class__.__name__
    links = {"HalfSquaredError": "identity", "HalfBinomialLoss": "sigmoid",
             "HalfMultinomialLoss": "softmax"}
    if loss not in links:
        raise ExportError(f"{type(est).__name__}: loss {loss} has a link weir does not have "
                          "(identity, sigmoid, softmax)")
    trees = []
    for predictors in est._predictors:
        for k, p in enumerate(predictors):
            t = _Tree(k)
            nodes = p.nodes
            bitsets = p.raw_left_cat_bitsets
            for i in range(len(nodes)):
                t.add()
                node = nodes[i]
                if node["is_leaf"]:
                    t.value[i] = float(node["value"])
                    continue
                t.feature[i] = int(colmap[node["feature_idx"]])
                t.left[i] = int(node["left"])
                t.right[i] = int(node["right"])
                t.missing_left[i] = int(node["missing_go_to_left"])
                if node["is_categorical"]:
                    words = bitsets[node["bitset_idx"]]
                    codes = [w * 32 + b for w, word in enumerate(words) for b in range(32)
                             if (int(word) >> b) & 1]
                    t.category_nodes.append(i)
                    t.category_sets.append(codes)
                else:
                    t.threshold[i] = _threshold(node["num_threshold"])
            trees.append(t)
    base = np.ravel(np.asarray(est._baseline_prediction, dtype=np.float64))
    return _trees_model(trees, split="less_equal", link=links[loss], base=base)


def _xgboost(est, colmap, task):
    import xgboost
    booster = est if isinstance(est, xgboost.Booster) else est.get_booster()
    best = getattr(est, "best_iteration", None) if not isinstance(est, xgboost.Booster) else None
    if best is None:
        try:
            best = int(booster.attr("best_iteration")) if booster.attr("best_iteration") else None
        except (TypeError, ValueError):
            best = None
    if best is not None:
        booster = booster[: best + 1]
    model = json.loads(booster.save_raw(raw_format="json"))
    learner = model["learner"]
    gb = learner["gradient_booster"]
    if gb["name"] != "gbtree":
        raise ExportError(f"XGBoost booster {gb['name']!r}: only gbtree is exported "
                          "(gblinear and dart are not)")
    objective = learner["objective"]["name"]
    param = learner["learner_model_param"]
    num_class = int(param.get("num_class", "0"))
    if int(param.get("num_target", "1")) != 1:
        raise ExportError("XGBoost with several targets")
    base = [float(v) for v in str(param["base_score"]).strip("[]").split(",")]
    if objective in ("binary:logistic",):
        link = "sigmoid"
        base = [math.log(b / (1 - b)) for b in base]
    elif objective in ("multi:softprob", "multi:softmax"):
        link = "softmax"
    elif objective in ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror",
                       "reg:quantileerror"):
        link = "identity"
    else:
        raise ExportError(f"XGBoost objective {objective!r} has a link weir does not have "
                          "(binary:logistic, multi:softprob, reg:squarederror are exported)")
    groups = max(num_class, 1)
    if len(base) == 1 and groups > 1:
        base = base * groups
    trees_json = gb["model"]["trees"]
    tree_info = gb["model"]["tree_info"]
    trees = []
    for tj, group in zip(trees_json, tree_info):
        t = _Tree(int(group))
        left, right = tj["left_children"], tj["right_children"]
        split_type = tj.get("split_type", [0] * len(left))
        cat_nodes = tj.get("categories_nodes", [])
        cat_segments = tj.get("categories_segments", [])
        cat_sizes = tj.get("categories_sizes", [])
        cats = tj.get("categories", [])
        node_set = {}
        for n, seg, size in zip(cat_nodes, cat_segments, cat_sizes):
            node_set[n] = cats[seg:seg + size]
        for i in range(len(left)):
            t.add()
            if left[i] == -1:
                t.value[i] = float(tj["split_conditions"][i])
                continue
            t.feature[i] = int(colmap[tj["split_indices"][i]])
            t.left[i] = int(left[i])
            t.right[i] = int(right[i])
            t.missing_left[i] = int(tj["default_left"][i])
            if split_type[i] == 1:
                t.category_nodes.append(i)
                t.category_sets.append([int(c) for c in node_set.get(i, [])])
            else:
                t.threshold[i] = _threshold(tj["split_conditions"][i])
        trees.append(t)
    return _trees_model(trees, split="float32_less", link=link, base=base, category_side="right")


def _lightgbm(est, colmap, task):
    import lightgbm
    booster = est if isinstance(est, lightgbm.Booster) else est.booster_
    best = booster.best_iteration if booster.best_iteration and booster.best_iteration > 0 else None
    dump = booster.dump_model(num_iteration=best)
    objective = dump.get("objective", "")
    parts = objective.split()
    name = parts[0] if parts else ""
    sigmoid = 1.0
    for p in parts[1:]:
        if p.startswith("sigmoid:"):
            sigmoid = float(p.split(":")[1])
    if name in ("binary", "cross_entropy", "xentropy"):
        link = "sigmoid"
    elif name in ("multiclass", "softmax"):
        link = "softmax"
    elif name in ("regression", "regression_l2", "l2", "mean_squared_error", "mse",
                  "regression_l1", "l1", "huber", "fair", "quantile", "mape"):
        link = "identity"
    else:
        raise ExportError(f"LightGBM objective {objective!r} has a link weir does not have "
                          "(binary, multiclass and the regression objectives are exported)")
    if link != "sigmoid":
        sigmoid = 1.0
    per_iteration = int(dump.get("num_tree_per_iteration", 1))
    trees = []
    for info in dump["tree_info"]:
        if "leaf_coeff" in json.dumps(info)[:0] or info.get("tree_structure", {}).get("leaf_coeff"):
            raise ExportError("LightGBM linear trees (linear_tree=True) are not exported")
        t = _Tree(int(info["tree_index"]) % per_iteration)
        _lightgbm_node(info["tree_structure"], t, colmap, sigmoid)
        trees.append(t)
    return _trees_model(trees, split="less_equal", link=link,
                        average=bool(dump.get("average_output", False)))


def _lightgbm_node(node, t, colmap, scale):
    """Preorder into t; returns the node's index."""
    stack = [(node, None, None)]
    root = None
    while stack:
        n, parent, side = stack.pop()
        i = t.add()
        if root is None:
            root = i
        if parent is not None:
            (t.left if side == 0 else t.right)[parent] = i
        if "leaf_value" in n:
            if n.get("leaf_coeff"):
                raise ExportError("LightGBM linear trees (linear_tree=True) are not exported")
            t.value[i] = float(n["leaf_value"]) * scale
            continue
        t.feature[i] = int(colmap[n["split_feature"]])
        missing = n.get("missing_type", "None")
        if n["decision_type"] == "==":
            codes = [int(c) for c in str(n["threshold"]).split("||")]
            t.category_nodes.append(i)
            t.category_sets.append(codes)
            t.missing_left[i] = 0  # LightGBM sends NaN (and any unknown) right
        elif n["decision_type"] == "<=":
            threshold = _threshold(n["threshold"])
            t.threshold[i] = threshold
            if missing == "NaN":
                t.missing_left[i] = int(bool(n["default_left"]))
            elif missing == "None":
                t.missing_left[i] = int(0.0 <= threshold)  # NaN is taken as 0
            else:
                raise ExportError("LightGBM zero_as_missing (missing type Zero) is not exported")
        else:
            raise ExportError(f"LightGBM decision type {n['decision_type']!r}")
        stack.append((n["right_child"], i, 1))
        stack.append((n["left_child"], i, 0))
    return root


def model_categories(est):
    """{input column index: [categories]} of native categorical features the
    model itself recorded (LightGBM's pandas_categorical, XGBoost's), or {}."""
    library, _ = estimator_kind(est)
    out = {}
    if library == "lightgbm":
        import lightgbm
        booster = est if isinstance(est, lightgbm.Booster) else est.booster_
        cats = getattr(booster, "pandas_categorical", None) or []
        dump = booster.dump_model()
        infos = dump.get("feature_infos", {})
        names = dump.get("feature_names", [])
        cat_columns = [j for j, nm in enumerate(names)
                       if isinstance(infos.get(nm), dict) and "values" in infos.get(nm, {})]
        return {"lightgbm_pandas": cats, "columns": cat_columns}
    return out


def convert(est, colmap, width, task, X_est):
    """The bundle's "model" for a fitted final estimator."""
    library, kind = estimator_kind(est)
    if library == "sklearn":
        if kind in ("LogisticRegression",):
            return _linear(est, colmap, width, task)
        if kind in ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "RidgeCV", "LassoCV",
                    "ElasticNetCV"):
            return _linear(est, colmap, width, "regression")
        if kind in ("MLPClassifier", "MLPRegressor"):
            return _mlp(est, colmap, width, task)
        if kind in ("DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
                    "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
                    "ExtraTreeClassifier", "ExtraTreeRegressor"):
            return _forest(est, colmap, task)
        if kind in ("GradientBoostingClassifier", "GradientBoostingRegressor"):
            return _gradient_boosting(est, colmap, task, X_est)
        if kind in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
            return _hist_gradient_boosting(est, colmap, task)
    if library == "xgboost" and kind in ("XGBClassifier", "XGBRegressor", "Booster"):
        return _xgboost(est, colmap, task)
    if library == "lightgbm" and kind in ("LGBMClassifier", "LGBMRegressor", "Booster"):
        return _lightgbm(est, colmap, task)
    raise ExportError(f"final estimator {type(est).__module__}.{kind} is not supported: weir "
                      "exports LogisticRegression, LinearRegression/Ridge/Lasso/ElasticNet, "
                      "MLPClassifier/MLPRegressor, DecisionTree, RandomForest, ExtraTrees, "
                      "GradientBoosting, HistGradientBoosting, XGBoost and LightGBM")


def category_texts(values):
    return [category_string(v) for v in values]
