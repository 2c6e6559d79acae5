"""The contract every recommender model in kgrec meets, so one trainer and one evaluator serve all."""

from __future__ import annotations

import itertools
import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.errors import InvalidValueError, shown
from kgrec.graph.snapshot import INTERACTION_EDGE, Snapshot
from kgrec.models.hparams import HParam, check_hparams


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a :class:`torch.device`; ``None`` is ``"cuda"`` when CUDA is available,
    else ``"cpu"``. Raises :class:`~kgrec.errors.InvalidValueError` for a value torch cannot
    parse, or a CUDA/MPS device this machine does not have."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise InvalidValueError(f"device must be a string or torch.device, not {shown(device)}")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise InvalidValueError(f"device {shown(device)} is not a torch device: {exc}") from exc
    if resolved.type == "cuda" and (
        not torch.cuda.is_available() or (resolved.index or 0) >= torch.cuda.device_count()
    ):
        raise InvalidValueError(f"device {shown(device)}: this machine has no such CUDA device")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidValueError(f"device {shown(device)}: MPS is not available on this machine")
    return resolved


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

    #: Whether :meth:`grown` embeds nodes added after training (cold start, no retraining).
    INDUCTIVE: ClassVar[bool] = False

    def __init__(self, graph: HeteroData) -> None:
        super().__init__()
        self.num_users = graph["user"].num_nodes
        self.num_items = graph["item"].num_nodes

    @property
    def device(self) -> torch.device:
        """Where the model's parameters and buffers are (CPU for a model with neither): the
        trainer and evaluator create their tensors there."""
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            return tensor.device
        return torch.device("cpu")

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
        return torch.zeros((), device=self.device)

    def node_embeddings(self) -> dict[str, Tensor]:
        """``{node type: [N_t, d]}`` final embeddings (empty for models without any)."""
        return {}

    def grown(
        self, snapshot: Snapshot, rows: Mapping[str, Tensor], text: Mapping[str, Tensor | None]
    ) -> "RankingModel":
        """This model with its trained parameters, on ``snapshot``: the graph it was built on
        plus new nodes and their edges (train interactions, KG triples). Its old node ``k`` of
        type ``t`` is row ``rows[t][k]``; ``text[t]`` ``[N'_t, d_text]`` holds the text vectors
        of every row (old ones as :meth:`saved_text` gave them) for the types whose features
        read text. New nodes are embedded inductively, from their text and graph neighbours.
        Only models with :attr:`INDUCTIVE` offer it; the others raise ``NotImplementedError``."""
        raise NotImplementedError(f"{type(self).__name__} cannot embed nodes added after training")

    def forward(self, users: Tensor, items: Tensor | None = None) -> Tensor:
        return self.score(self.encode(), users, items)


def grown_state(
    old: torch.nn.Module,
    new: torch.nn.Module,
    rows: Mapping[str, Tensor],
    sizes: Mapping[str, int],
) -> dict[str, Tensor]:
    """The state of ``new`` (the same model class on a grown graph) with ``old``'s trained
    parameters: a parameter whose shape is unchanged is copied; a per-node table of type ``t``
    (its first dimension ``len(rows[t])`` before and ``sizes[t]`` after, ``t`` named in its
    key, e.g. ``features.id_emb.item.weight``) keeps old row ``k`` at ``rows[t][k]`` and is
    zero on new rows. Buffers (text vectors, adjacency) stay as ``new`` built them from its
    graph. Raises ``ValueError`` for a parameter that fits neither rule."""
    parameters = {name for name, _ in new.named_parameters()}
    before = old.state_dict()
    state = new.state_dict()
    for key, value in state.items():
        if key not in parameters:
            continue
        trained = before.get(key)
        if trained is not None and trained.shape == value.shape:
            state[key] = trained
            continue
        words = set(re.split(r"[._]", key))
        owners = [
            t
            for t in rows
            if t in words
            and trained is not None
            and trained.shape[1:] == value.shape[1:]
            and (trained.size(0), value.size(0)) == (len(rows[t]), sizes[t])
        ]
        if len(owners) != 1:
            raise ValueError(f"cannot carry parameter {key!r} over to the grown graph")
        table = value.new_zeros(value.shape)
        table[rows[owners[0]]] = trained
        state[key] = table
    return state


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
        return (user.index_select(0, users) * item.index_select(0, items)).sum(-1)

    @torch.no_grad()
    def node_embeddings(self) -> dict[str, Tensor]:
        user, item = self.encode()
        return {"user": user, "item": item}
