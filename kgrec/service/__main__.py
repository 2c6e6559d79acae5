"""``python -m kgrec.service``: serve the configuration in the ``KGREC_*`` environment."""

import logging

from kgrec.service import Settings, run

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(Settings())
