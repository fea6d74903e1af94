"""What cannot be exported exactly is refused, naming the step and why; a
bundle the loader refuses names the path of the problem."""
import json

import numpy as np
import pandas as pd
import pytest

import cases
import weir


def small():
    X, y = cases.frame(300, 5, missing=False)
    return X[["amount", "hour", "age"]], y


def test_an_unsupported_estimator_is_refused_by_name():
    from sklearn.neighbors import KNeighborsClassifier
    X, y = small()
    est = KNeighborsClassifier().fit(X, y)
    with pytest.raises(weir.ExportError, match="KNeighborsClassifier is not supported"):
        weir.export(est, X, y, name="knn", version="1")


def test_a_step_without_a_weir_transform_is_refused_by_name():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures
    X, y = small()
    est = Pipeline([("pre", ColumnTransformer([("poly", PolynomialFeatures(2), ["amount"])],
                                              remainder="passthrough")),
                    ("model", LogisticRegression(max_iter=500))]).fit(X, y)
    with pytest.raises(weir.ExportError, match=r"step pre\.poly: PolynomialFeatures"):
        weir.export(est, X, y, name="poly", version="1")


def test_a_function_transformer_of_another_function_is_refused():
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    X, y = small()
    est = Pipeline([("exp", FunctionTransformer(np.tanh)), ("model", LinearRegression())]).fit(X, y)
    with pytest.raises(weir.ExportError, match=r"step exp: FunctionTransformer\(tanh\)"):
        weir.export(est, X, y, name="tanh", version="1")


def test_scaling_one_hot_columns_is_refused():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    X, _ = cases.frame(300, 6, missing=False)
    y = (X["amount"] > 30).astype(int)
    est = Pipeline([("pre", ColumnTransformer([("c", OneHotEncoder(sparse_output=False),
                                                ["category"])])),
                    ("scale", StandardScaler()),
                    ("model", LogisticRegression())]).fit(X, y)
    with pytest.raises(weir.ExportError, match=r"step scale: applies to the encoded columns"):
        weir.export(est, X, y, name="scaled-onehot", version="1")


def test_a_min_max_range_weir_cannot_write_is_refused():
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler
    X, y = small()
    est = Pipeline([("mm", MinMaxScaler(feature_range=(-1, 1))),
                    ("model", LinearRegression())]).fit(X, y)
    with pytest.raises(weir.ExportError, match=r"step mm: MinMaxScaler with feature_range"):
        weir.export(est, X, y, name="mm", version="1")


def test_xgboost_gblinear_and_lightgbm_poisson_are_refused():
    import lightgbm
    import xgboost
    X, y = small()
    est = xgboost.XGBRegressor(booster="gblinear", n_estimators=3, n_jobs=1).fit(X, y)
    with pytest.raises(weir.ExportError, match="gblinear"):
        weir.export(est, X, y, name="gbl", version="1")
    est = lightgbm.LGBMRegressor(objective="poisson", n_estimators=3, verbose=-1).fit(X, y)
    with pytest.raises(weir.ExportError, match="poisson"):
        weir.export(est, X, y, name="poisson", version="1")


def test_text_nothing_encodes_is_refused():
    from sklearn.tree import DecisionTreeClassifier
    X, y = cases.frame(200, 7, missing=False)
    est = DecisionTreeClassifier(max_depth=2).fit(X[["amount", "hour"]], y)
    X2 = X[["amount", "hour"]].copy()
    X2["amount"] = X2["amount"].astype(str)
    with pytest.raises(weir.ExportError, match="nothing encodes it"):
        weir.export(est, X2, y, name="text", version="1")


def tree_bundle(**tree):
    base = {"feature": [0, -1, -1], "threshold": [0.5, 0, 0], "left": [1, -1, -1],
            "right": [2, -1, -1], "value": [0, -1.0, 1.0]}
    base.update(tree)
    return json.dumps({"format": "weir.model/1", "name": "t", "version": "1",
                       "task": "regression",
                       "features": [{"name": "x", "source": "x", "type": "numeric"}],
                       "model": {"kind": "trees", "link": "identity", "trees": [base]}})


@pytest.mark.parametrize("tree, path", [
    ({"left": [7, -1, -1]}, "model.trees[0].left[0]: 7 is not a node"),
    ({"left": [1, 0, -1], "right": [2, 2, -1], "feature": [0, 0, -1]},
     "model.trees[0][1]: its left child, node 0, is reached twice"),
    ({"feature": [3, -1, -1]}, "model.trees[0].feature[0]: 3 is not a column of the features"),
])
def test_a_bad_tree_is_refused_with_its_path(tree, path):
    with pytest.raises(weir.WeirError) as e:
        weir.Bundle(text=tree_bundle(**tree))
    assert path in str(e.value)


def test_a_tree_too_deep_is_refused():
    n = 2 * 130 + 1
    feature, left, right, value = [], [], [], []
    for d in range(130):  # a chain: each split's right child is a leaf
        i = 2 * d
        feature += [0, -1]
        left += [i + 2, -1]
        right += [i + 1, -1]
        value += [0, 0]
    feature.append(-1), left.append(-1), right.append(-1), value.append(0)
    assert len(feature) == n
    with pytest.raises(weir.WeirError, match=r"model\.trees\[0\]: deeper than 128 levels"):
        weir.Bundle(text=tree_bundle(feature=feature, left=left, right=right, value=value,
                                     threshold=[0] * n))
