"""The ``kgrec`` command line: load, train, evaluate, recommend, explain, serve, and the demo.

One module per command (group); :mod:`kgrec.cli.options` holds the store options they share.
Every path comes from an option or its ``KGREC_*`` environment variable: no command but
``demo`` (and ``mcp``, which loads the demo's data) has a default that depends on where it runs.
"""

from __future__ import annotations

import logging

import typer

from kgrec import __version__
from kgrec.cli import demo, evaluate, load, mcp, recommend, serve, train
from kgrec.cli.output import print_recommendations as _print_recommendations  # kept importable

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kgrec {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print kgrec's version and exit"
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


app.command(
    "demo",
    epilog="Examples: kgrec demo  |  kgrec demo --store neo4j --neo4j-uri bolt://localhost:7687 --user 42",
)(demo.demo)
app.add_typer(load.app, name="load")
app.command("train", epilog=train.EXAMPLES)(train.train)
app.command("evaluate", epilog=evaluate.EXAMPLES)(evaluate.evaluate)
app.command("recommend", epilog=recommend.RECOMMEND_EXAMPLES)(recommend.recommend)
app.command("explain", epilog=recommend.EXPLAIN_EXAMPLES)(recommend.explain)
app.command("serve", epilog=serve.EXAMPLES)(serve.serve)
app.command("mcp", epilog="Example: kgrec mcp runs/demo/checkpoint --transport streamable-http --port 8000")(
    mcp.mcp_command
)

__all__ = ["app", "_print_recommendations"]
