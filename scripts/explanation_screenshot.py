"""Screenshot of an explained top-k ("why these 10") page, for docs/explanation.png.

    python scripts/explanation_screenshot.py [--user 1] [--k 10] [--epochs 5] [--out PNG]

Loads MovieLens-100k + the DBpedia KG into the embedded store, trains kgrec for a few epochs on
one thread (or reuses the model saved in ``--checkpoint``), renders
``kgrec.explain.render.recommendations_html`` and photographs it in headless Chromium
(Debian's ``chromium`` and ``chromium-driver`` packages, driven by selenium; nothing is
downloaded). ``headless_chromium`` is also what the rendering test uses.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path(os.environ.get("KGREC_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("KGREC_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
COLOURS = 256  # a palette PNG (octree keeps the few edge colours): text sharp, a third the size
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@contextmanager
def headless_chromium(width: int = 1280, height: int = 900) -> Iterator[object]:
    """A selenium Chrome driver on the local Chromium, with a fresh profile directory; the
    driver binary is given, so selenium never looks for (or downloads) a browser."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="kgrec-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def screenshot(html: Path, png: Path, width: int = 1280) -> Path:
    """The whole page ``html`` as a PNG ``width`` CSS pixels wide."""
    with headless_chromium(width) as driver:
        driver.get(html.resolve().as_uri())
        height, frame = driver.execute_script(
            "return [Math.ceil(document.body.getBoundingClientRect().bottom),"
            " window.outerHeight - window.innerHeight]"
        )
        driver.set_window_size(width, height + frame)  # the window size includes its frame
        png.write_bytes(driver.get_screenshot_as_png())
    from PIL import Image  # matplotlib's dependency

    with Image.open(png) as image:
        palette = image.convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.FASTOCTREE)
        palette.save(png, optimize=True)
    return png


def recommender(args: argparse.Namespace):
    """The served model: loaded from ``args.checkpoint`` when saved there, else trained."""
    import torch

    from kgrec import MemoryGraphStore, Recommender, Trainer, TrainConfig
    from kgrec.loaders import load_movielens100k
    from kgrec.models import KGRecModel, training_graph
    from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
    from kgrec.train import KGREC_TRAINING, seed_everything

    torch.set_num_threads(1)
    store = MemoryGraphStore()
    load_movielens100k(store, args.data_dir, kg_dir=args.kg_dir, split_file=args.split)
    if (args.checkpoint / "config.json").is_file():
        return Recommender.from_checkpoint(args.checkpoint, store)
    snapshot = store.snapshot()
    text = node_text_vectors(snapshot, EmbeddingCache(TextEncoder(), Path.home() / ".cache" / "kgrec"))
    seed_everything(2020)
    model = KGRecModel(training_graph(snapshot, text))
    config = TrainConfig(**KGREC_TRAINING, epochs=args.epochs, patience=args.epochs)
    Trainer(model, snapshot, config).fit(args.checkpoint.parent / "train")
    rec = Recommender(model, store, snapshot)
    rec.save(args.checkpoint)
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "movielens-100k")
    ap.add_argument("--kg-dir", type=Path, default=SHARED / "data" / "movielens-dbpedia-kg")
    ap.add_argument("--split", type=Path, default=SHARED / "benchmarks" / "ml100k" / "split.tsv")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/screenshot/checkpoint"))
    ap.add_argument("--user", default="1")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "explanation.png")
    ap.add_argument("--html", type=Path, default=Path("runs/screenshot/why-these.html"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from kgrec.explain.render import recommendations_html

    recs = recommender(args).recommend(args.user, k=args.k)
    args.html.parent.mkdir(parents=True, exist_ok=True)
    page = recommendations_html(recs, f"Why these {len(recs)} films for you")
    args.html.write_text(page, encoding="utf-8")
    png = screenshot(args.html, args.out)
    kb = [path.stat().st_size / 1024 for path in (args.html, png)]
    logging.info("%s: %.0f KB page; %s: %.0f KB", args.html, kb[0], png, kb[1])


if __name__ == "__main__":
    main()
