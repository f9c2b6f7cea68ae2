from __future__ import annotations

import numpy as np
import pytest

from artwork.ranking.trees import TreeEnsemble


def test_arrays_predict_what_scikit_learn_predicts(rng: np.random.Generator) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = rng.normal(size=(3000, 5))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the learned side
    logit = 2 * np.nan_to_num(x[:, 0]) - np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2])
    y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30, max_depth=4, random_state=0).fit(x, y)
    trees = TreeEnsemble.from_sklearn(model)
    assert np.allclose(trees.predict(x[:500]), model.decision_function(x[:500]))
    extreme = x[:40].copy()
    extreme[:20, 0], extreme[20:, 1] = np.inf, -np.inf  # past every threshold, either side
    assert np.allclose(trees.predict(extreme), model.decision_function(extreme))
    assert np.allclose(
        trees.predict(np.nan_to_num(x[:50])), model.decision_function(np.nan_to_num(x[:50]))
    )
    again = TreeEnsemble.from_state({k: np.array(v) for k, v in trees.get_state().items()})
    assert np.array_equal(again.predict(x[:50]), trees.predict(x[:50]))
    assert trees.predict(np.zeros((0, 5))).shape == (0,)


def test_unfitted_or_multiclass_models_are_refused(rng: np.random.Generator) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    with pytest.raises(ValueError, match="fitted"):
        TreeEnsemble.from_sklearn(HistGradientBoostingClassifier())
    x = rng.normal(size=(300, 2))
    model = HistGradientBoostingClassifier(max_iter=3).fit(x, np.arange(300) % 3)
    with pytest.raises(ValueError, match="single-output"):
        TreeEnsemble.from_sklearn(model)
