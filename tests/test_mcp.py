"""kgrec's MCP tools (issue #11, item 5), through the SDK's own client: in-process on the small
film graph (the tiny model of tests/conversation/test_conversation.py), and ``kgrec mcp`` over
stdio on a checkpoint of the tests' small MovieLens files."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mcp import Client, StdioServerParameters

import kgrec
from kgrec import MemoryGraphStore, Recommender
from kgrec.loaders import load_movielens100k
from kgrec.mcp_server import MAX_RESULTS, build_server
from kgrec.models import KGRecModel, training_graph
from tests.conversation.test_conversation import SPACEY, _recommender, trained  # noqa: F401 (a fixture)
from tests.cli.conftest import flat, invoke
from tests.cli.test_demo import demo_data

pytestmark = pytest.mark.anyio

TOOLS = {
    "recommend": ({"user_id", "k", "explain"}, ["user_id"]),
    "explain": ({"user_id", "item_id"}, ["user_id", "item_id"]),
    "search_entities": ({"query", "limit"}, ["query"]),
    "similar_items": ({"item_id", "k"}, ["item_id"]),
    "conversation_turn": ({"text", "session_id", "user_id", "k"}, ["text"]),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def rec(trained) -> Recommender:  # noqa: F811 (the imported fixture)
    """Shared: the tools only read it (each test builds its own server, so its own sessions)."""
    return _recommender(MemoryGraphStore(), trained)


async def call(client: Client, tool: str, **arguments) -> dict:
    """The structured result of a tool call that must succeed."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


async def error(client: Client, tool: str, **arguments) -> str:
    """The text of a tool call that must fail."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def test_tools_are_listed_with_schemas_naming_their_parameters(rec):
    async with Client(build_server(rec)) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == set(TOOLS)
    for name, (parameters, required) in TOOLS.items():
        tool = listed[name]
        assert set(tool.input_schema["properties"]) == parameters, name
        assert tool.input_schema.get("required", []) == required, name
        assert tool.output_schema["type"] == "object" and tool.description
        assert tool.annotations.read_only_hint
    assert listed["recommend"].input_schema["properties"]["k"]["maximum"] == MAX_RESULTS
    assert set(listed["conversation_turn"].output_schema["properties"]) == {"session_id", "reply", "request", "items"}


async def test_recommend_and_explain_give_the_recommenders_items_and_paths(rec):
    expected = rec.recommend("u0", k=3)
    async with Client(build_server(rec)) as client:
        result = await call(client, "recommend", user_id="u0", k=3)
        plain = await call(client, "recommend", user_id="u0", k=3, explain=False)
        why = await call(client, "explain", user_id="u0", item_id=expected[0].item_id)
    assert [i["item_id"] for i in result["items"]] == [r.item_id for r in expected]
    assert [i["rank"] for i in result["items"]] == [1, 2, 3]
    first = result["items"][0]
    assert first["name"] == expected[0].name and first["logit"] == pytest.approx(expected[0].logit)
    assert first["sentence"] == expected[0].explanation.sentence
    path = first["paths"][0]
    assert path["nodes"][0] == "u0" and path["nodes"][-1] == expected[0].name
    assert len(path["relations"]) == len(path["nodes"]) - 1
    assert all(i["sentence"] is None and i["paths"] == [] for i in plain["items"])
    assert why["logit"] == pytest.approx(expected[0].logit) and why["score"] == pytest.approx(expected[0].score)
    assert why["paths"] == first["paths"] and why["name"] == expected[0].name


async def test_search_entities_lists_what_a_name_may_mean(rec):
    async with Client(build_server(rec)) as client:
        parker = await call(client, "search_entities", query="alan parker")
        amy = await call(client, "search_entities", query="Chasing Amy", limit=1)
        typo = await call(client, "search_entities", query="Kevin Spacy")
        scary = await call(client, "search_entities", query="scary")
        nothing = await call(client, "search_entities", query="zzzz qqqq")
    assert [(m["label"], m["id"], m["how"]) for m in parker["matches"]] == [
        ("Entity", "person:alan_parker_director", "normalized"),
        ("Entity", "person:alan_parker_musician", "normalized"),
    ]
    assert [m["id"] for m in amy["matches"]] == ["14"]  # the more connected of two same-named films
    [spacey] = typo["matches"]
    assert (spacey["name"], spacey["how"]) == ("Kevin Spacey", "fuzzy") and 0.86 <= spacey["score"] < 1
    assert [(m["name"], m["how"]) for m in scary["matches"]] == [("Horror", "alias")]
    assert nothing == {"query": "zzzz qqqq", "matches": []}


async def test_similar_items_are_the_nearest_by_item_embedding(rec):
    async with Client(build_server(rec)) as client:
        result = await call(client, "similar_items", item_id="4", k=3)
        everything = await call(client, "similar_items", item_id="4", k=MAX_RESULTS)
    items = F.normalize(rec.node_embeddings["item"], dim=-1)
    row = rec.snapshot.node_ids["item"].index("4")
    cosines = items @ items[row]
    cosines[row] = -2.0
    nearest = [rec.snapshot.node_ids["item"][i] for i in torch.topk(cosines, 3).indices.tolist()]
    assert [i["item_id"] for i in result["items"]] == nearest
    assert result["items"][0]["similarity"] == pytest.approx(float(cosines.max()), abs=1e-6)
    assert len(everything["items"]) == rec.snapshot.num_nodes("item") - 1  # every item but itself
    assert "4" not in {i["item_id"] for i in everything["items"]}


async def test_a_three_turn_conversation_keeps_its_state_by_session_id(rec):
    async with Client(build_server(rec)) as client:
        first = await call(client, "conversation_turn", text="a thriller with Kevin Spacey", k=3)
        session = first["session_id"]
        second = await call(client, "conversation_turn", text="no crime", session_id=session, k=3)
        third = await call(client, "conversation_turn", text="from the nineties", session_id=session, k=3)
        fresh = await call(client, "conversation_turn", text="from the nineties", k=3)
    ids = [[i["item_id"] for i in turn["items"]] for turn in (first, second, third)]
    assert [m["name"] for m in first["request"]["wanted"]] == ["Thriller", "Kevin Spacey"]
    assert set(ids[0]) == SPACEY - {"16"} and "Kevin Spacey" in first["reply"]
    assert all(any("Kevin Spacey" in r for r in i["reasons"]) for i in first["items"])
    assert [m["name"] for m in second["request"]["excluded"]] == ["Crime"]
    assert ids[1][0] == "16"  # the one Spacey film that is no crime film, not shown before
    assert (third["request"]["first_year"], third["request"]["last_year"]) == (1990, 1999)
    assert not set(ids[2]) & (set(ids[0]) | set(ids[1]))  # never shown twice in the session
    assert second["session_id"] == third["session_id"] == session != fresh["session_id"]
    assert set(ids[0]) & {i["item_id"] for i in fresh["items"]}  # a new session starts afresh


async def test_a_known_users_conversation_is_personal_and_explained(rec):
    async with Client(build_server(rec)) as client:
        turn = await call(client, "conversation_turn", text="something with Kevin Spacey", user_id="u0", k=2)
        again = await call(client, "conversation_turn", text="a drama", session_id=turn["session_id"], user_id="u0")
        other = await error(client, "conversation_turn", text="a drama", session_id=turn["session_id"], user_id="u1")
    assert not {i["item_id"] for i in turn["items"]} & set(rec.seen_items("u0"))
    assert all(i["paths"] and i["paths"][0]["nodes"][0] == "u0" for i in turn["items"])
    assert again["items"]
    assert "is the conversation of user 'u0', not 'u1'" in other


async def test_bad_calls_are_tool_errors_naming_the_problem_and_the_server_goes_on(rec):
    async with Client(build_server(rec)) as client:
        texts = [
            await error(client, "recommend", user_id="nobody"),
            await error(client, "explain", user_id="u0", item_id="no-such-film"),
            await error(client, "similar_items", item_id="no-such-film"),
            await error(client, "conversation_turn", text="a thriller", user_id="nobody"),
            await error(client, "conversation_turn", text="a thriller", session_id="stale"),
            await error(client, "conversation_turn", text=""),
            await error(client, "recommend", user_id="u0", k=0),
        ]
        assert await call(client, "recommend", user_id="u0", k=1)
    assert "unknown user id(s): 'nobody'" in texts[0]
    assert "unknown item id(s): 'no-such-film'" in texts[1] and "'no-such-film'" in texts[2]
    assert "unknown user id(s): 'nobody'" in texts[3]
    assert "unknown or expired session_id 'stale'" in texts[4]
    assert "the request is empty" in texts[5]
    assert "k" in texts[6] and "greater than or equal to 1" in texts[6]


async def test_sessions_are_bounded_least_recently_used_first(rec):
    async with Client(build_server(rec, max_sessions=2)) as client:
        a, b = [(await call(client, "conversation_turn", text="a thriller", k=1))["session_id"] for _ in range(2)]
        await call(client, "conversation_turn", text="a drama", session_id=a, k=1)  # a is now the most recent
        await call(client, "conversation_turn", text="a comedy", k=1)  # a third session drops b
        assert await call(client, "conversation_turn", text="no horror", session_id=a, k=1)
        assert "unknown or expired session_id" in await error(client, "conversation_turn", text="x", session_id=b)


@pytest.mark.neo4j
async def test_both_stores_answer_the_tools_alike(both_stores, trained):  # noqa: F811
    answers = []
    for store in both_stores:
        async with Client(build_server(_recommender(store, trained))) as client:
            turn = await call(client, "conversation_turn", text="a thriller with Kevin Spacey", user_id="u1", k=3)
            answers.append([
                await call(client, "recommend", user_id="u1", k=3),
                await call(client, "explain", user_id="u1", item_id="5"),
                await call(client, "search_entities", query="alan parker"),
                await call(client, "similar_items", item_id="4", k=3),
                {key: value for key, value in turn.items() if key != "session_id"},
            ])
    assert answers[0] == answers[1]


# -- the command ----------------------------------------------------------------------------------
def test_mcp_help_names_the_tools_and_options():
    result = invoke("mcp", "--help")
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    for word in ("recommend, explain, search_entities, similar_items, conversation_turn", "--store",
                 "--data-dir", "--neo4j-uri", "--transport", "streamable-http", "--port", "stdout is the protocol's"):
        assert word in text


def test_mcp_refuses_a_missing_checkpoint(tmp_path):
    result = invoke("mcp", tmp_path / "nowhere")
    assert result.exit_code == 2 and "nowhere" in flat(result.output) and "does not exist" in flat(result.output)


def _imports_run_on_import(tree: ast.AST):
    """The import statements of a module that run when it is imported (not in a function)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _imports_run_on_import(node)


def test_importing_kgrec_never_imports_mcp():
    """Only kgrec/mcp_server.py imports mcp, and no module imports it on import (``kgrec mcp``
    does, when run): kgrec works without the mcp extra. Read from the source: a fresh
    interpreter would spend 5-15 s importing torch to say the same."""
    package = Path(kgrec.__file__).parent
    sources = [*package.rglob("*.py"), *Path(kgrec.loaders.__file__).parent.rglob("*.py")]
    for path in sources:
        if path == package / "mcp_server.py":
            continue
        for node in _imports_run_on_import(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not [n for n in names if n.split(".")[0] == "mcp" or n == "kgrec.mcp_server"], (path, names)


async def test_kgrec_mcp_serves_a_checkpoint_over_stdio(tmp_path):
    """The small MovieLens files loaded as the command loads them, an untrained model saved:
    the command reloads both and answers over stdio."""
    data = demo_data(tmp_path)
    store = MemoryGraphStore()
    load_movielens100k(store, data / "movielens-100k", kg_dir=data / "movielens-dbpedia-kg",
                       split_file=tmp_path / "benchmarks" / "ml100k" / "split.tsv")
    model = KGRecModel(training_graph(store.snapshot()), channels=8, feature_mode="id")
    expected = Recommender(model, store)
    checkpoint = expected.save(tmp_path / "checkpoint")
    command = StdioServerParameters(
        command=sys.executable, args=["-m", "kgrec.cli", "mcp", str(checkpoint), "--data-dir", str(data)]
    )
    async with Client(command) as client:
        result = await call(client, "recommend", user_id="1", k=2)
        unknown = await error(client, "recommend", user_id="nobody")
    assert [i["item_id"] for i in result["items"]] == [r.item_id for r in expected.recommend("1", k=2)]
    assert "unknown user id(s): 'nobody'" in unknown
