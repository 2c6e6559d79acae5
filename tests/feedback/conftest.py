"""The cold-start tests' films and trained model (two genres, users who like one each)."""

from tests.cold_start.conftest import trained_model  # noqa: F401 (a fixture)
