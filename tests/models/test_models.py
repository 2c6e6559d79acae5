"""Shapes, the ranking contract, personalization, ablation flags and explanations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from kgrec.errors import InvalidValueError
from kgrec.models.kg_overlap import DENSE_FROM, KnowledgeOverlap
from kgrec.models import (
    KGRecModel, LightGCNRanker, MatrixFactorization, NodeFeatures, Popularity, training_graph,
)

ALL_USERS = torch.arange(4)


def kgrec(graph, **kw):
    torch.manual_seed(0)
    return KGRecModel(graph, channels=16, **kw)


MODEL_FACTORIES = {
    "kgrec": kgrec,
    "kgrec-text": lambda g: kgrec(g, feature_mode="text"),
    "kgrec-no-z": lambda g: kgrec(g, use_relation_vectors=False),
    "kgrec-residual": lambda g: with_residual(kgrec(g)),
    "kgrec-kg-z": lambda g: with_residual(kgrec(g, z_interacted=False)),
    "mf": lambda g: MatrixFactorization(g, channels=16),
    "lightgcn": lambda g: LightGCNRanker(g, channels=16, num_layers=2),
    "popularity": Popularity,
}


@pytest.mark.parametrize("name", MODEL_FACTORIES)
def test_scores_all_items_and_subsets_consistently(tiny_graph, name):
    model = MODEL_FACTORIES[name](tiny_graph).eval()
    encoded = model.encode()
    full = model.score(encoded, ALL_USERS)
    assert full.shape == (4, 6)
    items = torch.tensor([5, 0, 3])
    assert torch.allclose(model.score(encoded, ALL_USERS[1:3], items), full[1:3][:, items], atol=1e-5)
    pairs = model.score_pairs(encoded, ALL_USERS, torch.tensor([5, 0, 3, 3]))
    assert torch.allclose(pairs, full[ALL_USERS, torch.tensor([5, 0, 3, 3])], atol=1e-5)


def rankings_differ(scores):
    """True when at least two users rank the items differently."""
    order = scores.argsort(dim=1, descending=True)
    return bool((order != order[0]).any())


def test_kgrec_is_personalized(tiny_graph):
    with torch.no_grad():
        assert rankings_differ(kgrec(tiny_graph)(ALL_USERS))


def test_personalization_check_catches_a_linear_scorer(tiny_graph):
    """A linear g over [u; v] adds a user term to an item term: every user gets one ranking."""
    model = kgrec(tiny_graph)
    x = model.encode()[1].x
    g = torch.nn.Linear(32, 1)
    with torch.no_grad():
        linear = g(torch.cat([x["user"].unsqueeze(1).expand(-1, 6, -1),
                              x["item"].unsqueeze(0).expand(4, -1, -1)], -1)).squeeze(-1)
    assert not rankings_differ(linear)


def test_ablation_flags(tiny_snapshot, tiny_graph):
    assert "features.text_item" in dict(kgrec(tiny_graph).named_buffers())
    assert "features.text_item" not in dict(kgrec(tiny_graph, feature_mode="id").named_buffers())
    no_kg = kgrec(training_graph(tiny_snapshot, with_kg=False))
    assert no_kg.relation_names == ["INTERACTED"]
    assert kgrec(tiny_graph, use_relation_vectors=False).relation_names == []


def test_explain_exposes_relation_attention_and_alpha(tiny_graph):
    model = kgrec(tiny_graph).eval()
    items = torch.tensor([2, 4])
    why = model.explain(0, items)
    assert sorted(why.relations) == ["INTERACTED", "rev_director", "rev_has_genre"]
    assert why.relation_attention.shape == (3,)
    assert torch.isclose(why.relation_attention.sum(), torch.tensor(1.0))
    assert why.alpha.shape == (2,) and bool(((why.alpha > 0) & (why.alpha < 1)).all())
    assert why.relation_terms.shape == (2, 3)
    assert torch.allclose(why.scores, model(torch.tensor([0]), items)[0])
    assert model.node_embeddings()["entity"].shape == (3, 16)


def test_residual_terms_match_explained_parts(tiny_graph):
    """The fast path (one [B, R d] x [R d, K] matmul) and the per-relation terms agree, and the
    residual starts at zero: an untrained model scores like its collaborative backbone."""
    model = kgrec(tiny_graph).eval()
    torch.nn.init.normal_(model.scorer.relation_weight)
    encoded = model.encode()
    fast = model.score(encoded, ALL_USERS)
    parts = model.score_parts(encoded, ALL_USERS, None, parts=True)
    assert torch.allclose(fast, parts.logits, atol=1e-5)
    assert parts.relation_terms.shape == (4, 3, 6)
    fresh = kgrec(tiny_graph).eval()
    x = fresh.encode()[1].x
    unit = torch.nn.functional.normalize
    cosine = unit(x["user"], dim=-1) @ unit(x["item"], dim=-1).t()
    assert torch.allclose(fresh(ALL_USERS), cosine / fresh.scorer.temperature, atol=1e-5)


def test_reasoner_keeps_the_collaborative_backbone(tiny_snapshot, tiny_graph):
    """User and item embeddings do not depend on the KG: the views carry it."""
    with_kg, without = kgrec(tiny_graph, feature_mode="id"), kgrec(
        training_graph(tiny_snapshot, with_kg=False), feature_mode="id"
    )
    without.features.load_state_dict(with_kg.features.state_dict())
    a, b = with_kg.encode()[1], without.encode()[1]
    assert torch.allclose(a.x["item"], b.x["item"]) and torch.allclose(a.x["user"], b.x["user"])
    assert a.item_views.shape == (6, 3, 16)
    assert a.item_views[:, 1:].abs().sum() > 0


def with_residual(model):
    """Nonzero relation projection and alpha weight, so every term of the scorer counts."""
    torch.nn.init.normal_(model.scorer.relation_weight)
    torch.nn.init.normal_(model.scorer.overlap_weight)
    torch.nn.init.constant_(model.scorer.alpha_weight, 0.5)
    return model.eval()


@pytest.mark.parametrize("kw", [
    {}, {"use_relation_vectors": False}, {"cosine": False}, {"z_interacted": False},
])
def test_catalogue_prepared_without_autograd_scores_like_the_uncached_path(tiny_graph, kw):
    """encode() under no_grad prepares the item side once; every score call on it equals the
    per-call computation of an encoding made with autograd on."""
    model = with_residual(kgrec(tiny_graph, **kw))
    uncached = model.encode()
    with torch.no_grad():
        cached = model.encode()
    assert uncached.items is None and cached.items is not None
    items, pair_items = torch.tensor([5, 0, 3]), torch.tensor([5, 0, 3, 3])
    with torch.no_grad():
        for subset in (None, items):
            for parts in (False, True):
                want = model.score_parts(uncached, ALL_USERS, subset, parts)
                got = model.score_parts(cached, ALL_USERS, subset, parts)
                for field in ("logits", "alpha", "relation_attention", "relation_terms"):
                    assert torch.allclose(getattr(got, field), getattr(want, field), atol=1e-6), field
        pairs = model.score_pairs(cached, ALL_USERS, pair_items)
        assert torch.allclose(pairs, model.score_pairs(uncached, ALL_USERS, pair_items), atol=1e-6)


def test_reencoding_after_a_parameter_change_gives_fresh_scores(tiny_graph):
    """The prepared item side belongs to one encoding: a new encode() sees new parameters,
    including those only the item side uses (the key projection)."""
    model = with_residual(kgrec(tiny_graph))
    with torch.no_grad():
        before = model.score(model.encode(), ALL_USERS)
        torch.nn.init.normal_(model.scorer.key.weight)
        after = model.score(model.encode(), ALL_USERS)
    assert not torch.allclose(after, before, atol=1e-4)
    assert torch.allclose(after, model.score(model.encode(), ALL_USERS).detach(), atol=1e-6)


# Train interactions of the tiny graph: user -> its liked items.
LIKED = {0: [0, 1], 1: [1, 2], 2: [3], 3: [4, 5]}


@pytest.mark.parametrize("z_interacted", [True, False])
def test_liked_items_z_leaves_the_scored_item_out(tiny_graph, z_interacted):
    """z of (user, item) dots each relation's view of the item with the mean view of the
    user's other liked items: an item is never matched with itself, a single liked item
    gives no z to itself, and an unseen item is matched against all liked items."""
    model = with_residual(kgrec(tiny_graph, z_interacted=z_interacted))
    assert model.relation_names[0] == "INTERACTED" if z_interacted else "INTERACTED" not in model.relation_names
    parts = model.score_parts(model.encode(), ALL_USERS, None, parts=True)
    reasoned = model.reasoner(model.features())
    views = F.normalize(reasoned.item_views[:, model.z_views], dim=-1)  # [6, R, d]
    attention = parts.relation_attention  # [4, R]
    weight = model.scorer.relation_weight
    for user, liked in LIKED.items():
        for item in range(6):
            others = [k for k in liked if k != item]
            want = torch.zeros(views.size(1))
            if others:
                want = attention[user] * weight * (views[others].mean(0) * views[item]).sum(-1)
            got = parts.relation_terms[user, :, item] * model.scorer.temperature
            assert torch.allclose(got, want, atol=1e-5), (user, item)


def test_liked_items_z_scores_pairs_like_the_full_matrix(tiny_graph):
    """Pairs that are liked items (held out) and unseen pairs score as in the [B, K] matrix,
    with and without autograd."""
    model = with_residual(kgrec(tiny_graph))
    users, items = torch.tensor([0, 0, 1, 2, 3, 3]), torch.tensor([0, 2, 2, 3, 1, 5])
    for encoded in (model.encode(), torch.no_grad()(model.encode)()):
        full = model.score(encoded, ALL_USERS)
        assert torch.allclose(model.score_pairs(encoded, users, items), full[users, items], atol=1e-5)
        subset = torch.tensor([5, 0, 3])
        assert torch.allclose(model.score(encoded, torch.tensor([3, 0]), subset),
                              full[[3, 0]][:, subset], atol=1e-5)


def test_no_z_ablation_scores_collaborative_and_alpha_terms_only(tiny_graph):
    """Without z the model scores exactly its collaborative term plus the alpha term."""
    no_z = with_residual(kgrec(tiny_graph, use_relation_vectors=False))
    assert no_z.relation_names == [] and no_z.encode().profiles is None
    parts = no_z.score_parts(no_z.encode(), ALL_USERS, None)
    x = no_z.encode().reasoned.x
    cosine = F.normalize(x["user"], dim=-1) @ F.normalize(x["item"], dim=-1).t()
    want = (cosine + no_z.scorer.alpha_weight * parts.alpha) / no_z.scorer.temperature
    assert torch.allclose(no_z(ALL_USERS), want, atol=1e-5)


def test_id_dropout_drops_whole_id_rows_in_training_only(tiny_graph):
    torch.manual_seed(0)
    features = NodeFeatures(tiny_graph, 16, id_dropout=0.5)
    with torch.no_grad():
        full = features.eval()()
        assert all(torch.equal(full[t], out) for t, out in features().items())  # deterministic
        text_only = features.text_proj["item"](tiny_graph["item"].text)
        ids = features.id_emb["item"].weight
        train = features.train()()
    assert torch.allclose(full["item"], text_only + ids, atol=1e-6)
    dropped = [torch.allclose(train["item"][k], text_only[k], atol=1e-6) for k in range(6)]
    kept = [torch.allclose(train["item"][k], full["item"][k], atol=1e-6) for k in range(6)]
    assert all(d != k for d, k in zip(dropped, kept)) and any(dropped) and any(kept)
    # Users have no text: their id is all they have and is never dropped.
    assert torch.equal(train["user"], full["user"])


def test_new_hparams_are_checked(tiny_graph):
    with pytest.raises(InvalidValueError, match="z_interacted"):
        kgrec(tiny_graph, z_interacted=1)
    with pytest.raises(InvalidValueError, match="id_dropout"):
        kgrec(tiny_graph, id_dropout=1.0)


def test_overlap_is_the_mean_entity_cosine_with_the_other_liked_items(tiny_graph):
    """s_ijr: the idf-weighted cosine of item j's relation-r entities with each of the user's
    other liked items', averaged; computed here densely from the tiny graph's edges."""
    model = with_residual(kgrec(tiny_graph))
    assert model.overlap_names == ["director", "has_genre"]
    parts = model.score_parts(model.encode(), ALL_USERS, None, parts=True)
    entities = {"has_genre": {i: {i % 3} for i in range(6)}, "director": {0: {2}}}
    for r, relation in enumerate(model.overlap_names):
        links = entities[relation]
        degree = {e: sum(e in es for es in links.values()) for e in range(3)}
        idf = {e: math.log(7 / (degree[e] + 1)) for e in range(3)}

        def unit(item):
            vector = torch.zeros(3)
            for e in links.get(item, ()):
                vector[e] = idf[e]
            return vector / vector.norm() if vector.norm() > 0 else vector

        for user, liked in LIKED.items():
            for item in range(6):
                others = [k for k in liked if k != item]
                want = sum(float(unit(item) @ unit(k)) for k in others) / len(others) if others else 0.0
                got = float(parts.overlap_terms[user, r, item].detach() * model.scorer.temperature)
                weight = float(model.scorer.overlap_weight[r].detach())
                assert math.isclose(got, weight * want, abs_tol=1e-5), (relation, user, item)
    assert torch.allclose(parts.logits, model.score(model.encode(), ALL_USERS), atol=1e-5)


def test_no_kg_graph_has_no_overlap(tiny_snapshot):
    model = kgrec(training_graph(tiny_snapshot, with_kg=False))
    assert model.overlap_names == [] and model.scorer.num_overlaps == 0


def test_overlap_table_and_sparse_rows_agree(tiny_graph):
    """The dense [U, R, I] table (small graphs, built once DENSE_FROM users were scored) and the
    per-call sparse rows (large graphs, a model's first few users) give the same figures."""
    table, rows = KnowledgeOverlap(tiny_graph), KnowledgeOverlap(tiny_graph, dense_limit=0)
    table(torch.zeros(3, dtype=torch.long))
    assert table._table is None  # a one-off fold-in leaves it unbuilt
    table(torch.zeros(DENSE_FROM - 3, dtype=torch.long))
    rows(torch.zeros(DENSE_FROM, dtype=torch.long))
    assert table._table is not None and rows._table is None
    users, items = torch.tensor([3, 0, 1]), torch.tensor([5, 0, 2])
    assert torch.allclose(table(users), rows(users))
    assert torch.allclose(table(users, items), rows(users, items))
    assert torch.allclose(table.pairs(users, items), rows.pairs(users, items))
    repeated, again = torch.tensor([3, 3, 0, 1]), torch.tensor([2, 2, 5, 2])  # batches repeat both
    assert torch.allclose(table(repeated, again), rows(repeated, again))
    assert torch.allclose(table.pairs(repeated, again), rows.pairs(repeated, again))


def test_training_encoding_gives_the_served_scores_and_exact_gradients(tiny_graph):
    """Training's shortcuts (no final entity layer, per-batch profiles, the interaction convs'
    transposed backward) change no score, and their gradients are the reference ones."""
    torch.manual_seed(0)
    model = kgrec(tiny_graph).eval()
    users, items = torch.tensor([0, 2, 3]), torch.tensor([1, 4, 0, 5])
    with torch.no_grad():
        served = model.score(model.encode(), users, items)
    trained = model.score(model.encode(), users, items)
    assert torch.allclose(trained, served, atol=1e-5)
    trained.square().sum().backward()
    fast = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    reasoner = model.reasoner
    adj = (reasoner.adj_user.to_dense().to_sparse_csr(), reasoner.adj_item.to_dense().to_sparse_csr())
    x0 = model.features()
    user = reasoner.interaction_conv((x0["item"], x0["user"]), adj[0])  # PyG's own backward
    item = reasoner.interaction_conv((x0["user"], x0["item"]), adj[1])
    fast_user = reasoner.interaction_conv((x0["item"], x0["user"]), reasoner.adj_user, reasoner.adj_item)
    fast_item = reasoner.interaction_conv((x0["user"], x0["item"]), reasoner.adj_item, reasoner.adj_user)
    weights = torch.randn_like(user), torch.randn_like(item)
    reference = torch.autograd.grad((user * weights[0]).sum() + (item * weights[1]).sum(), [x0["user"], x0["item"]])
    got = torch.autograd.grad((fast_user * weights[0]).sum() + (fast_item * weights[1]).sum(), [x0["user"], x0["item"]])
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(reference, got))
    assert fast  # the model's parameters got gradients through every shortcut
