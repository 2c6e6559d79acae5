"""Wheel smoke test: build kgrec's wheel, install it in a fresh virtualenv, and check what a user
of ``pip install kgrec`` gets. Exits non-zero, naming every problem, when:

- the wheel holds anything besides ``kgrec/`` and its metadata (a top-level ``loaders``, ...);
- a module of the source tree (``kgrec/`` and the folders that pyproject.toml's
  ``[tool.setuptools.package-dir]`` maps into it) is not in the installed package, or the
  installed package has a module the source tree does not;
- a module fails to import, or is imported from anywhere but the virtualenv. The venv sees
  this Python's site-packages (like ``--system-site-packages``) and the wheel is installed with
  ``--no-deps``, so torch and the other dependencies are not installed again; that also exposes
  an editable install of the checkout, which would silently answer for a module missing from
  the wheel: such a module fails;
- a file named by ``[tool.setuptools.package-data]`` is not an installed package resource;
- ``kgrec --version`` does not print the installed version, or ``kgrec --help`` fails.

The wheel is built from a copy of the working tree (uncommitted files included), so that no
``build/`` folder is left in the checkout, and none left from an earlier build (holding modules
deleted since) leaks into the wheel.

Usage: ``python3 scripts/wheel_smoke.py [--wheel FILE]``; ``--wheel`` checks a wheel built
elsewhere instead of building one.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.resources
import logging
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path
from subprocess import PIPE

log = logging.getLogger("wheel_smoke")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "kgrec"
#: Never copied into the build tree: VCS data, build output, caches, run outputs.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "runs", ".cache"
)


def layout(root: Path) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """``({package: source folder}, {package: data globs})`` of the source tree ``root``, read
    from its pyproject.toml: ``kgrec/`` plus the folders mapped into the package."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {PACKAGE: root / PACKAGE}
    folders.update({name: root / folder for name, folder in setuptools.get("package-dir", {}).items()})
    return folders, setuptools.get("package-data", {})


def module_names(folder: Path, package: str) -> set[str]:
    """Dotted names of the Python modules in ``folder``, which installs as ``package``."""
    names = set()
    for path in folder.rglob("*.py"):
        parts = path.relative_to(folder).with_suffix("").parts
        names.add(".".join((package, *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return names


def check_installed(root: Path) -> list[str]:
    """Run inside the virtualenv: the problems of the installed package, compared with the
    source tree ``root``; an empty list when there are none."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    version = importlib.metadata.version(PACKAGE)
    script = Path(sys.prefix) / "bin" / PACKAGE
    commands = {  # the console script, run while this process imports the modules
        (args, wanted): subprocess.Popen([str(script), args], stdout=PIPE, stderr=PIPE, text=True)
        for args, wanted in (("--version", f"kgrec {version}"), ("--help", "demo"))
    }
    folders, package_data = layout(root)
    expected = set().union(*(module_names(folder, name) for name, folder in folders.items()))
    found = module_names(site / PACKAGE, PACKAGE)
    problems = [f"module {m} is in the source tree but not in the wheel" for m in sorted(expected - found)]
    problems += [f"module {m} is in the wheel but not in the source tree" for m in sorted(found - expected)]

    def outside(path: str | None) -> bool:
        return path is not None and not Path(path).resolve().is_relative_to(site)

    for name in sorted(expected | found):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import failure is what this check reports
            problems.append(f"import {name} failed: {type(exc).__name__}: {exc}")
    for name, module in sorted(sys.modules.items()):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            paths = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
            problems += [f"{name} was imported from {p}, not from the wheel in {site}" for p in paths if outside(p)]

    for name, globs in package_data.items():
        for pattern in globs:
            for source in sorted(folders[name].glob(pattern)):
                resource = importlib.resources.files(name) / source.name
                if not resource.is_file() or outside(str(resource)):
                    problems.append(f"data file {source.name} is not a resource of the installed {name}")

    declared = getattr(sys.modules.get(PACKAGE), "__version__", None)
    if version != declared:
        problems.append(f"the installed metadata says version {version}, kgrec.__version__ {declared}")
    for (args, wanted), command in commands.items():
        stdout, stderr = command.communicate(timeout=300)
        if command.returncode != 0 or wanted not in stdout:
            problems.append(
                f"`kgrec {args}` exited {command.returncode} without printing {wanted!r}:\n"
                f"{stdout[-2000:]}{stderr[-2000:]}"
            )
    log.info("%d modules checked, kgrec %s", len(expected | found), version)
    return problems


def build_wheel(root: Path, work: Path) -> Path:
    """Build the wheel of a copy of ``root`` (pip, with build isolation, as a user installs)."""
    source = work / "src"
    shutil.copytree(root, source, ignore=NOT_SOURCE)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work / "dist"), str(source))
    [wheel] = (work / "dist").glob("*.whl")
    return wheel


def make_venv(venv: Path) -> None:
    """A fresh virtualenv that also sees this Python's site-packages, after its own (as
    ``--system-site-packages`` does, but also when this Python is itself a virtualenv), so the
    dependencies need not be installed again."""
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    dirs = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    own = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    lines = "".join(f"import site; site.addsitedir({d!r})\n" for d in dirs if Path(d).is_dir())
    (own / "_host_site_packages.pth").write_text(lines)


def wheel_problems(wheel: Path) -> list[str]:
    """Top-level entries of ``wheel`` other than the package and its metadata."""
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    return [
        f"the wheel has a top-level {top!r}: only {PACKAGE}/ may be installed"
        for top in sorted(tops)
        if top != PACKAGE and not (top.startswith(f"{PACKAGE}-") and top.endswith(".dist-info"))
    ]


def run(*command: str, **kwargs) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing from the checkout
    subprocess.run(command, check=True, env={**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="check this wheel instead of building one")
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)  # the venv half: source root
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="wheel smoke: %(message)s")
    if args.inside:
        problems = check_installed(args.inside)
        for problem in problems:
            log.error("%s", problem)
        return 1 if problems else 0

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kgrec-wheel-smoke-") as tmp:
        work = Path(tmp)
        wheel = args.wheel.resolve() if args.wheel else build_wheel(ROOT, work)
        log.info("%s %s (%.0f s)", "checking" if args.wheel else "built", wheel.name, time.perf_counter() - started)
        problems = wheel_problems(wheel)
        for problem in problems:
            log.error("%s", problem)
        venv = work / "venv"
        make_venv(venv)
        python = str(venv / "bin" / "python")
        # pip comes from this Python's site-packages; --ignore-installed: the checkout's editable
        # install, visible there, is neither taken as "already satisfied" nor uninstalled.
        run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", str(wheel))
        try:
            run(python, str(Path(__file__).resolve()), "--inside", str(ROOT), cwd=work)
        except subprocess.CalledProcessError:
            problems.append("the installed wheel failed its checks (above)")
    if problems:
        log.error("FAILED: %s", wheel.name)
        return 1
    log.info("%s passed in %.0f s", wheel.name, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
