"""``python -m kgrec.cli``: the ``kgrec`` command."""

from kgrec.cli import app

if __name__ == "__main__":  # importing this module (the wheel check does) runs nothing
    app()
