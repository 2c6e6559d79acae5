"""Training and evaluation: trainer, losses, negative sampling, metrics, checkpoints, top-K files."""

from kgrec.train.checkpoint import load_checkpoint, save_checkpoint
from kgrec.train.curves import save_curves
from kgrec.train.evaluation import RankingEvaluator
from kgrec.train.experiment import fit_and_evaluate
from kgrec.train.export import write_embeddings
from kgrec.train.leakage import LeakageError, check_no_leakage
from kgrec.train.losses import LOSSES, bce_loss, bpr_loss, softmax_loss
from kgrec.train.metrics import METRIC_NAMES, ranking_metrics
from kgrec.train.report import metrics_table
from kgrec.train.sampling import NegativeSampler
from kgrec.train.splits import per_user_split
from kgrec.train.top_k_file import write_top_k
from kgrec.train.trainer import KGREC_TRAINING, Trainer, TrainConfig, TrainResult, seed_everything

__all__ = [
    "KGREC_TRAINING",
    "LOSSES",
    "METRIC_NAMES",
    "LeakageError",
    "NegativeSampler",
    "RankingEvaluator",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "bce_loss",
    "bpr_loss",
    "check_no_leakage",
    "fit_and_evaluate",
    "load_checkpoint",
    "metrics_table",
    "per_user_split",
    "ranking_metrics",
    "save_checkpoint",
    "save_curves",
    "seed_everything",
    "softmax_loss",
    "write_embeddings",
    "write_top_k",
]
