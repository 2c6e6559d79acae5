"""``kgrec recommend`` and ``kgrec explain``: a trained checkpoint served once from the store."""

from __future__ import annotations

from typing import Annotated

import typer

from kgrec.cli.options import CheckpointOption, StoreOptions, opened_store, reported_errors, with_store
from kgrec.cli.output import (
    echo_json,
    explanation_dict,
    print_reasons,
    print_recommendations,
    recommendation_dict,
)

RECOMMEND_EXAMPLES = (
    "Examples: kgrec recommend 1 --checkpoint runs/ml100k --graph stores/ml100k --k 5 --explain  |  "
    "KGREC_CHECKPOINT=runs/ml100k KGREC_STORE=neo4j KGREC_NEO4J_URI=bolt://localhost:7687 "
    "kgrec recommend 1 --json"
)
EXPLAIN_EXAMPLES = "Example: kgrec explain 1 50 --checkpoint runs/ml100k --graph stores/ml100k"

AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]


@with_store
def recommend(
    user: Annotated[str, typer.Argument(help="the user's id")],
    checkpoint: CheckpointOption,
    k: Annotated[int, typer.Option("--k", min=1, help="how many items")] = 10,
    explain: Annotated[
        bool, typer.Option("--explain", help="each item's reasons: paths in the graph, weighted by the model")
    ] = False,
    as_json: AsJson = False,
    store: StoreOptions = StoreOptions(),
) -> None:
    """The user's top-k items they have not interacted with, best first, with their chance of
    being liked (calibrated on the valid split when the checkpoint has a calibration)."""
    from kgrec import Recommender

    with reported_errors("recommend"), opened_store(store) as graph_store:
        recs = Recommender.from_checkpoint(checkpoint, graph_store).recommend(user, k=k, explain=explain)
    if as_json:
        echo_json([recommendation_dict(r) for r in recs])
    else:
        print_recommendations(recs, explain=explain)


@with_store
def explain(
    user: Annotated[str, typer.Argument(help="the user's id")],
    item: Annotated[str, typer.Argument(help="the item's id (recommended or not)")],
    checkpoint: CheckpointOption,
    as_json: AsJson = False,
    store: StoreOptions = StoreOptions(),
) -> None:
    """Why the model scores ITEM as it does for USER: paths from the user to the item in the
    graph, weighted by the model's attention, heaviest first."""
    from kgrec import Recommender

    with reported_errors("explain"), opened_store(store) as graph_store:
        explanation = Recommender.from_checkpoint(checkpoint, graph_store).explain(user, item)
    if as_json:
        echo_json(explanation_dict(explanation))
        return
    typer.echo(explanation.sentence)
    print_reasons(explanation)
