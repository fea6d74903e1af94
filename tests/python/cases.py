"""Every estimator the weir package exports, trained small on synthetic
transactions, with a test frame that holds missing values and categories the
training never saw. Shared by the Python tests and by
tests/scoring/golden/make_estimators.py, which writes the golden file the C
tests check (so CI's C tests need no Python packages).

Each case is a function returning (estimator, train frame, train labels);
the test frame comes from test_frame(). Seeds are fixed.
"""
import warnings

import numpy as np
import pandas as pd

CATEGORIES = ["grocery", "travel", "online", "fuel", "jewelry"]
CHANNELS = ["pos", "web", "atm"]


def frame(n, seed, unseen=False, missing=True):
    """Transactions: numbers with missing values, text categories, a numeric
    code pandas holds as float (the "1.0" trap), a boolean; and labels."""
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(3.5, 1.2, n), 2)
    hour = rng.integers(0, 24, n).astype(np.int64)
    age = np.round(rng.normal(45, 14, n), 1)
    category = rng.choice(CATEGORIES, n, p=[0.35, 0.2, 0.3, 0.1, 0.05]).astype(object)
    channel = rng.choice(CHANNELS, n).astype(object)
    code = rng.choice([1.0, 2.0, 3.0], n)
    foreign = rng.random(n) < 0.2
    logit = (0.9 * (np.log1p(amount) - 3.5) + 1.2 * (category == "jewelry") + 0.8 * foreign
             - 0.03 * (age - 45) + 0.5 * ((hour < 6) | (hour > 22)) + 0.4 * (code == 3.0) - 1.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    if missing:
        amount[rng.random(n) < 0.06] = np.nan
        age[rng.random(n) < 0.1] = np.nan
        code[rng.random(n) < 0.05] = np.nan
        category[rng.random(n) < 0.04] = None
    if unseen:
        category[rng.random(n) < 0.1] = "crypto"
        channel[rng.random(n) < 0.1] = "kiosk"
    X = pd.DataFrame({"amount": amount, "hour": hour, "age": age, "category": category,
                      "channel": channel, "code": code, "foreign": foreign})
    return X, y


def multiclass_labels(X, y):
    """Three classes from the same signal."""
    score = np.nan_to_num(np.log1p(X["amount"].to_numpy(dtype=float)), nan=3.5) + y
    return np.where(score < 3.4, "low", np.where(score < 4.6, "mid", "high"))


def regression_target(X, y):
    a = np.nan_to_num(X["amount"].to_numpy(dtype=float), nan=30.0)
    return np.log1p(a) * 2.0 + 0.05 * X["hour"].to_numpy() + y * 1.5


def with_pandas_categories(X, train):
    """category/channel as pandas categories of the training frame's values."""
    X = X.copy()
    for c in ("category", "channel"):
        cats = sorted(v for v in pd.unique(train[c]) if isinstance(v, str))
        X[c] = pd.Categorical(X[c], categories=cats)
    return X


def test_frame(n=40):
    return frame(n, 99, unseen=True)


# ------------------------------------------------------------------ the cases

def _sk():
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MaxAbsScaler,
                                       MinMaxScaler, OneHotEncoder, OrdinalEncoder,
                                       RobustScaler, StandardScaler)
    return locals()


def dense_preprocessing(onehot_drop=None, infrequent=False):
    s = _sk()
    ohe = dict(handle_unknown="ignore", sparse_output=False)
    if onehot_drop:
        ohe = dict(handle_unknown="ignore", sparse_output=False, drop=onehot_drop)
    if infrequent:
        ohe = dict(handle_unknown="infrequent_if_exist", sparse_output=False, min_frequency=0.08)
    return s["ColumnTransformer"]([
        ("amount", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="median")),
                                  ("log", s["FunctionTransformer"](np.log1p)),
                                  ("scale", s["StandardScaler"]())]), ["amount"]),
        ("age", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="mean")),
                               ("scale", s["RobustScaler"]())]), ["age"]),
        ("hour", s["KBinsDiscretizer"](n_bins=4, encode="onehot-dense", strategy="uniform",
                                       quantile_method="averaged_inverted_cdf"), ["hour"]),
        ("category", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="constant",
                                                                   fill_value="none")),
                                    ("encode", s["OneHotEncoder"](**ohe))]), ["category"]),
        ("channel", s["OneHotEncoder"](handle_unknown="ignore", sparse_output=False), ["channel"]),
        ("code", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="most_frequent")),
                                ("encode", s["OneHotEncoder"](handle_unknown="ignore",
                                                              sparse_output=False))]), ["code"]),
    ], remainder="passthrough")


def logistic_binary():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    X, y = frame(1500, 1)
    est = Pipeline([("pre", dense_preprocessing(onehot_drop="first")),
                    ("model", LogisticRegression(C=0.5, max_iter=2000))])
    return est.fit(X, y), X, y


def logistic_multinomial():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    X, y = frame(1500, 2)
    est = Pipeline([("pre", dense_preprocessing(infrequent=True)),
                    ("model", LogisticRegression(max_iter=3000))])
    yy = multiclass_labels(X, y)
    return est.fit(X, yy), X, yy


def _regression(model):
    from sklearn.pipeline import Pipeline
    s = _sk()
    X, y = frame(1200, 3)
    pre = s["ColumnTransformer"]([
        ("amount", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="median")),
                                  ("clip", s["FunctionTransformer"](
                                      np.clip, kw_args={"a_min": 0.0, "a_max": 500.0})),
                                  ("scale", s["MinMaxScaler"]())]), ["amount"]),
        ("age", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="median")),
                               ("scale", s["MaxAbsScaler"]())]), ["age"]),
        ("hour", s["StandardScaler"](), ["hour"]),
        ("category", s["OneHotEncoder"](handle_unknown="ignore", sparse_output=False),
         ["category"]),
    ], remainder="drop")
    t = regression_target(X, y)
    return Pipeline([("pre", pre), ("model", model)]).fit(X, t), X, t


def linear_regression():
    from sklearn.linear_model import LinearRegression
    return _regression(LinearRegression())


def ridge():
    from sklearn.linear_model import Ridge
    return _regression(Ridge(alpha=2.0))


def lasso():
    from sklearn.linear_model import Lasso
    return _regression(Lasso(alpha=0.01))


def elastic_net():
    from sklearn.linear_model import ElasticNet
    return _regression(ElasticNet(alpha=0.01, l1_ratio=0.3))


def mlp_classifier():
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    X, y = frame(1200, 4)
    est = Pipeline([("pre", dense_preprocessing()),
                    ("model", MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=300,
                                            random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y), X, y


def mlp_regressor():
    from sklearn.neural_network import MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _regression(MLPRegressor(hidden_layer_sizes=(6,), activation="tanh",
                                        max_iter=300, random_state=0))


def tree_preprocessing():
    s = _sk()
    return s["ColumnTransformer"]([
        ("text", s["OrdinalEncoder"](handle_unknown="use_encoded_value", unknown_value=-1,
                                     encoded_missing_value=-1), ["category", "channel"]),
    ], remainder="passthrough")


def _tree_pipeline(model, X, y):
    from sklearn.pipeline import Pipeline
    return Pipeline([("pre", tree_preprocessing()), ("model", model)]).fit(X, y), X, y


def decision_tree_classifier():
    from sklearn.tree import DecisionTreeClassifier
    X, y = frame(1000, 5)
    return _tree_pipeline(DecisionTreeClassifier(max_depth=5, random_state=0), X, y)


def random_forest_classifier():
    from sklearn.ensemble import RandomForestClassifier
    X, y = frame(1000, 6)
    return _tree_pipeline(RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0),
                          X, y)


def random_forest_multiclass():
    from sklearn.ensemble import RandomForestClassifier
    X, y = frame(1000, 7)
    return _tree_pipeline(RandomForestClassifier(n_estimators=6, max_depth=4, random_state=0),
                          X, multiclass_labels(X, y))


def random_forest_regressor():
    from sklearn.ensemble import RandomForestRegressor
    X, y = frame(1000, 8)
    return _tree_pipeline(RandomForestRegressor(n_estimators=6, max_depth=5, random_state=0),
                          X, regression_target(X, y))


def extra_trees_classifier():
    from sklearn.ensemble import ExtraTreesClassifier
    X, y = frame(1000, 9)
    return _tree_pipeline(ExtraTreesClassifier(n_estimators=6, max_depth=5, random_state=0),
                          X, y)


def extra_trees_regressor():
    from sklearn.ensemble import ExtraTreesRegressor
    X, y = frame(1000, 10)
    return _tree_pipeline(ExtraTreesRegressor(n_estimators=6, max_depth=5, random_state=0),
                          X, regression_target(X, y))


def _imputed_tree_pipeline(model, X, y):
    """GradientBoosting takes no missing value: the pipeline imputes."""
    from sklearn.pipeline import Pipeline
    s = _sk()
    pre = s["ColumnTransformer"]([
        ("numbers", s["SimpleImputer"](strategy="median"), ["amount", "age", "code"]),
        ("text", s["Pipeline"]([("impute", s["SimpleImputer"](strategy="constant",
                                                               fill_value="none")),
                                ("encode", s["OneHotEncoder"](handle_unknown="ignore",
                                                              sparse_output=False))]),
         ["category"]),
    ], remainder="passthrough")
    return Pipeline([("pre", pre), ("model", model)]).fit(X, y), X, y


def gradient_boosting_classifier():
    from sklearn.ensemble import GradientBoostingClassifier
    X, y = frame(1000, 11)
    X = X.drop(columns=["channel"])
    return _imputed_tree_pipeline(GradientBoostingClassifier(n_estimators=10, max_depth=3,
                                                             random_state=0), X, y)


def gradient_boosting_multiclass():
    from sklearn.ensemble import GradientBoostingClassifier
    X, y = frame(1000, 12)
    X = X.drop(columns=["channel"])
    return _imputed_tree_pipeline(GradientBoostingClassifier(n_estimators=5, max_depth=2,
                                                             random_state=0), X,
                                  multiclass_labels(X, y))


def gradient_boosting_regressor():
    from sklearn.ensemble import GradientBoostingRegressor
    X, y = frame(1000, 13)
    X = X.drop(columns=["channel"])
    return _imputed_tree_pipeline(GradientBoostingRegressor(n_estimators=10, max_depth=3,
                                                            random_state=0), X,
                                  regression_target(X, y))


def _categorical_frame(seed, n=1200):
    X, y = frame(n, seed)
    return with_pandas_categories(X, X), y


def hist_gradient_boosting_classifier():
    from sklearn.ensemble import HistGradientBoostingClassifier
    X, y = _categorical_frame(14)
    return HistGradientBoostingClassifier(max_iter=15, max_depth=4, random_state=0).fit(X, y), X, y


def hist_gradient_boosting_multiclass():
    from sklearn.ensemble import HistGradientBoostingClassifier
    X, y = _categorical_frame(15)
    yy = multiclass_labels(X, y)
    return HistGradientBoostingClassifier(max_iter=8, max_depth=3, random_state=0).fit(X, yy), X, yy


def hist_gradient_boosting_regressor():
    from sklearn.ensemble import HistGradientBoostingRegressor
    X, y = _categorical_frame(16)
    t = regression_target(X, y)
    return HistGradientBoostingRegressor(max_iter=15, max_depth=4, random_state=0).fit(X, t), X, t


def xgboost_classifier():
    import xgboost
    X, y = _categorical_frame(17)
    est = xgboost.XGBClassifier(n_estimators=15, max_depth=4, enable_categorical=True,
                                tree_method="hist", max_cat_to_onehot=1, n_jobs=1, random_state=0)
    return est.fit(X, y), X, y


def xgboost_multiclass():
    import xgboost
    X, y = _categorical_frame(18)
    yy = multiclass_labels(X, y)
    codes = np.searchsorted(np.array(["high", "low", "mid"]), yy)
    est = xgboost.XGBClassifier(n_estimators=6, max_depth=3, enable_categorical=True,
                                tree_method="hist", n_jobs=1, random_state=0)
    return est.fit(X, codes), X, codes


def xgboost_regressor():
    import xgboost
    X, y = _categorical_frame(19)
    est = xgboost.XGBRegressor(n_estimators=15, max_depth=4, enable_categorical=True,
                               tree_method="hist", n_jobs=1, random_state=0)
    t = regression_target(X, y)
    return est.fit(X, t), X, t


def xgboost_booster():
    import xgboost
    X, y = frame(1200, 20)
    X = X[["amount", "hour", "age", "code", "foreign"]].astype(float)
    d = xgboost.DMatrix(X, label=y)
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1,
                             "base_score": 0.3}, d, num_boost_round=12)
    return booster, X, y


def lightgbm_classifier():
    import lightgbm
    X, y = _categorical_frame(21)
    est = lightgbm.LGBMClassifier(n_estimators=15, num_leaves=15, min_child_samples=10,
                                  n_jobs=1, random_state=0, verbose=-1, cat_smooth=1,
                                  min_data_per_group=5)
    return est.fit(X, y), X, y


def lightgbm_multiclass():
    import lightgbm
    X, y = _categorical_frame(22)
    yy = multiclass_labels(X, y)
    est = lightgbm.LGBMClassifier(n_estimators=6, num_leaves=7, n_jobs=1, random_state=0,
                                  verbose=-1)
    return est.fit(X, yy), X, yy


def lightgbm_regressor():
    import lightgbm
    X, y = _categorical_frame(23)
    t = regression_target(X, y)
    est = lightgbm.LGBMRegressor(n_estimators=15, num_leaves=15, n_jobs=1, random_state=0,
                                 verbose=-1)
    return est.fit(X, t), X, t


def lightgbm_booster():
    import lightgbm
    X, y = frame(1200, 24)
    X = X[["amount", "hour", "age", "code", "foreign"]].astype(float)
    booster = lightgbm.train({"objective": "binary", "num_leaves": 7, "num_threads": 1,
                              "verbose": -1}, lightgbm.Dataset(X, label=y), num_boost_round=12)
    return booster, X, y


DENSE = ["logistic_binary", "logistic_multinomial", "linear_regression", "ridge", "lasso",
         "elastic_net", "mlp_classifier", "mlp_regressor"]
TREES = ["decision_tree_classifier", "random_forest_classifier", "random_forest_multiclass",
         "random_forest_regressor", "extra_trees_classifier", "extra_trees_regressor",
         "gradient_boosting_classifier", "gradient_boosting_multiclass",
         "gradient_boosting_regressor", "hist_gradient_boosting_classifier",
         "hist_gradient_boosting_multiclass", "hist_gradient_boosting_regressor",
         "xgboost_classifier", "xgboost_multiclass", "xgboost_regressor", "xgboost_booster",
         "lightgbm_classifier", "lightgbm_multiclass", "lightgbm_regressor", "lightgbm_booster"]
ALL = DENSE + TREES


def build(name):
    """(estimator, train frame, train labels, test frame) of case @name."""
    est, X, y = globals()[name]()
    T, _ = test_frame()
    T = T[list(X.columns)]
    if any(isinstance(X[c].dtype, pd.CategoricalDtype) for c in X.columns):
        T = with_pandas_categories(T, X)
    else:
        T = T.astype({c: X[c].dtype for c in X.columns if X[c].dtype == float})
    return est, X, y, T
