"""The package list, the one thing pyproject.toml cannot state: setuptools' package discovery
finds every package under ``kgrec/`` (so a new subpackage cannot be left out of the wheel), but
not a folder that ``[tool.setuptools.package-dir]`` maps into it, so those are added by name."""

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent
MAPPED = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]

setup(packages=find_namespace_packages(str(ROOT), include=["kgrec", "kgrec.*"]) + sorted(MAPPED))
