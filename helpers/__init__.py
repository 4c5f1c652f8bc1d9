"""Helpers for the notebook series 「PyTorchで学ぶ行列因子分解 / Matrix Factorization with PyTorch」.

Each function is written out first in the notebook that teaches it (named in its docstring);
this package keeps the reusable version for the later notebooks and the tests.
Part IV's models live in their own modules, imported by name as notebooks 12 and 13 do:
`helpers.implicit` (interactions with known truth, weighted ALS, 12) and `helpers.bpr` (negative
sampling and BPR, 13); the ranking metrics they use are exported here with 08's.
Part V's search lives in `helpers.tuning` (Optuna objectives, samplers, pruning, 15), imported by
name too, so that `import helpers` does not load Optuna. `helpers.temporal` (14) and `helpers.neural`
(16) are exported here as well as imported by name.
"""

from .data import init_factors, observed_mask, original_ratings
from .datasets import (
    Ratings,
    SyntheticTruth,
    make_synthetic,
    split_leave_one_out,
    split_per_user,
    split_random,
)
from .metrics import (
    bootstrap_ci,
    coverage,
    head_items,
    hit_rate_at_k,
    long_tail_share,
    mae,
    mean_popularity,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    paired_bootstrap,
    per_user_scores,
    precision_at_k,
    ranking_report,
    recall_at_k,
    rmse,
    sampled_metrics,
    sampled_ranks,
)
from .models import BiasedMF
from .movielens import load_movielens
from .neural import (
    AutoRec,
    DotProduct,
    MLPRating,
    NeuMF,
    fit_neural,
    fit_neural_implicit,
    make_star_ratings,
    mlp_dot_experiment,
    out_of_range_share,
    sigmoid_range,
)
from .plotting import plot_loss, plot_matrix, use_japanese_font
from .recommend import NewUser, fold_in, scores, similar_items, top_n
from .seeding import set_seed, setup_notebook
from .temporal import (
    TimeBiasedMF,
    TimedTruth,
    fit_timed,
    make_synthetic_timed,
    rmse_ci,
    split_leave_last_out,
    split_temporal,
)
from .training import (
    DivergenceError,
    History,
    TrainResult,
    fit,
    fit_als,
    fit_biases,
    masked_loss_grad,
    masked_squared_loss,
    reconstruct,
    train,
)

__all__ = [
    "BiasedMF", "DivergenceError", "History", "NewUser", "Ratings", "SyntheticTruth", "TrainResult",
    "bootstrap_ci", "coverage", "fit", "fit_als", "fit_biases", "fold_in", "hit_rate_at_k",
    "init_factors", "load_movielens", "mae", "make_synthetic", "mean_popularity", "mrr_at_k",
    "paired_bootstrap", "per_user_scores",
    "masked_loss_grad", "masked_squared_loss", "ndcg_at_k", "observed_mask", "original_ratings",
    "plot_loss", "plot_matrix", "precision_at_k", "ranking_report", "recall_at_k", "reconstruct",
    "rmse", "scores", "set_seed", "setup_notebook", "similar_items", "split_per_user", "split_random",
    "top_n", "train", "use_japanese_font",
    "head_items", "long_tail_share", "novelty", "sampled_metrics", "sampled_ranks", "split_leave_one_out",
    "TimeBiasedMF", "TimedTruth", "fit_timed", "make_synthetic_timed", "rmse_ci", "split_leave_last_out",
    "split_temporal",
    "AutoRec", "DotProduct", "MLPRating", "NeuMF", "fit_neural", "fit_neural_implicit", "make_star_ratings",
    "mlp_dot_experiment", "out_of_range_share", "sigmoid_range",
]
