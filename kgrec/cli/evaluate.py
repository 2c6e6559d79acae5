"""``kgrec evaluate``: full-ranking metrics of a checkpoint on the valid or test split, and
its top-K lists as the file ``../shared/benchmarks/referee.py`` scores."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from kgrec.cli.options import StoreOptions, opened_store, reported_errors, with_store
from kgrec.cli.output import echo_json

EXAMPLES = (
    "Examples: kgrec evaluate runs/ml100k --graph stores/ml100k  |  "
    "kgrec evaluate runs/ml100k --phase valid --k 10 --k 20 --json --graph stores/ml100k  |  "
    "python referee.py split.tsv runs/ml100k/top_k_test.tsv"
)


class Phase(str, Enum):
    valid = "valid"
    test = "test"


@with_store
def evaluate(
    checkpoint: Annotated[
        Path, typer.Argument(help="checkpoint folder written by kgrec train", exists=True, file_okay=False)
    ],
    phase: Annotated[
        Phase, typer.Option(help="the split to rank for (train positives masked; for test, valid ones too)")
    ] = Phase.test,
    k: Annotated[
        Optional[list[int]],
        typer.Option(min=1, help="cut-offs (repeatable)  [default: 10, 20]", show_default=False),
    ] = None,
    top_k_file: Annotated[
        Optional[Path],
        typer.Option(
            help="where to write the top-K lists (user_id, item_id, rank)  "
            "[default: CHECKPOINT/top_k_PHASE.tsv]",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
    store: StoreOptions = StoreOptions(),
) -> None:
    """Recall@K and NDCG@K over every item (full ranking) for the users with items in PHASE;
    writes each user's top max(K) items in the referee's format."""
    from kgrec.train import RankingEvaluator, write_top_k
    from kgrec.train.checkpoint import load_serving

    ks = tuple(sorted(set(k or (10, 20))))
    top_k_file = top_k_file or checkpoint / f"top_k_{phase.value}.tsv"
    with reported_errors("evaluate"), opened_store(store) as graph_store:
        model, snapshot, _, _ = load_serving(checkpoint, graph_store)
    evaluator = RankingEvaluator(snapshot.interactions, model.num_users, model.num_items, ks=ks)
    metrics = evaluator.evaluate(model, phase.value)
    users, items = evaluator.top_k(model, phase.value, k=min(max(ks), model.num_items))
    write_top_k(top_k_file, snapshot, users, items)
    if as_json:
        echo_json({"phase": phase.value, **metrics, "top_k_file": str(top_k_file)})
        return
    typer.echo(f"{phase.value}: {int(metrics['users']):,} users")
    for cut in ks:
        typer.echo(f"  Recall@{cut} {metrics[f'recall@{cut}']:.4f}   NDCG@{cut} {metrics[f'ndcg@{cut}']:.4f}")
    typer.echo(f"top-{max(ks)} lists in {top_k_file}")
