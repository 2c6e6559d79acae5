"""The contract every recommender model in kgrec meets, so one trainer and one evaluator serve all."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.graph.snapshot import INTERACTION_EDGE
from kgrec.models.hparams import HParam, check_hparams


class RankingModel(torch.nn.Module, ABC):
    """Scores users against items of a training graph.

    A model is built as ``cls(graph, **hparams)`` from a :class:`HeteroData` made by
    :func:`kgrec.models.training_graph` (train interactions only) and JSON-able ``hparams``;
    :meth:`hparams` returns them so a checkpoint can rebuild it. :meth:`encode` runs the
    full-graph part once; :meth:`score` then ranks any batch of users from its result.
    """

    #: What each key of :meth:`hparams` may be: a checkpoint's ``config.json`` is checked
    #: against it (:meth:`check_hparams`) before the model is built.
    HPARAMS: ClassVar[Mapping[str, HParam]] = {}

    def __init__(self, graph: HeteroData) -> None:
        super().__init__()
        self.num_users = graph["user"].num_nodes
        self.num_items = graph["item"].num_nodes

    @abstractmethod
    def hparams(self) -> dict[str, Any]:
        """The constructor arguments besides ``graph``: the keys of :attr:`HPARAMS`."""

    @classmethod
    def check_hparams(cls, hparams: object) -> None:
        """Raise :class:`~kgrec.errors.InvalidValueError` naming the field (``hparams.<key>``)
        unless ``hparams`` has exactly the keys of :attr:`HPARAMS`, each value allowed."""
        check_hparams(cls.HPARAMS, hparams)

    @classmethod
    def saved_text(cls, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The text vectors ``{node type: [N_t, d_text]}`` held in a saved :meth:`state_dict`
        (model inputs kept with the weights), to rebuild the training graph from without a
        text encoder; empty for models that keep none."""
        return {}

    @abstractmethod
    def encode(self) -> Any:
        """Whatever :meth:`score` needs from the whole graph (embeddings after propagation)."""

    @abstractmethod
    def score(self, encoded: Any, users: Tensor, items: Tensor | None = None) -> Tensor:
        """``[B, K]`` logits of ``users`` ``[B]`` for ``items`` ``[K]`` (default: all items)."""

    def score_pairs(self, encoded: Any, users: Tensor, items: Tensor) -> Tensor:
        """``[B]`` logits of the pairs ``(users[b], items[b])``: the diagonal of :meth:`score`
        (models override it to skip the ``[B, B]`` matrix)."""
        return self.score(encoded, users, items).diagonal()

    def regularization(self, encoded: Any, users: Tensor, items: Tensor) -> Tensor:
        """Sum of the squared L2 norms of the layer-0 parameters behind the distinct ``users``
        ``[U]`` and ``items`` ``[I]`` a batch touches; zero for models without parameters."""
        return torch.zeros(())

    def node_embeddings(self) -> dict[str, Tensor]:
        """``{node type: [N_t, d]}`` final embeddings (empty for models without any)."""
        return {}

    def forward(self, users: Tensor, items: Tensor | None = None) -> Tensor:
        return self.score(self.encode(), users, items)


def train_edge_index(graph: HeteroData) -> Tensor:
    """``[2, E]`` user -> item train interactions of ``graph``."""
    return graph[INTERACTION_EDGE].edge_index


class DotProductRanker(RankingModel, ABC):
    """A model whose :meth:`encode` gives ``(users [U, d], items [I, d])`` and whose scores
    are their dot products: ``s_ij = <user_i, item_j>``."""

    def score(
        self, encoded: tuple[Tensor, Tensor], users: Tensor, items: Tensor | None = None
    ) -> Tensor:
        user, item = encoded
        return user[users] @ (item if items is None else item[items]).t()

    def score_pairs(self, encoded: tuple[Tensor, Tensor], users: Tensor, items: Tensor) -> Tensor:
        user, item = encoded
        return (user[users] * item[items]).sum(-1)

    @torch.no_grad()
    def node_embeddings(self) -> dict[str, Tensor]:
        user, item = self.encode()
        return {"user": user, "item": item}
