"""Packaging: the folders pipelines/ and rewards/ install as ``t2v.pipelines`` and ``t2v.rewards``, never top-level.

PyPI has unrelated packages called ``pipelines`` and ``rewards``, so an install that maps those names would
shadow them (or be shadowed). pyproject.toml lists every package by hand with a package-dir mapping; these
tests hold that list to the folders on disk, look inside a freshly built wheel, and import from an install of
that wheel and from the development (editable) install, each from a working directory outside the checkout,
where the repository root is not on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
TOP_LEVEL_NAMES = ("pipelines", "rewards")  # folder names here, unrelated packages on PyPI

# Run in a fresh interpreter: imports t2v.pipelines and t2v.rewards, tries the bare names, prints JSON.
PROBE = r"""
import importlib, importlib.resources, json, sys
out = {}
for name in ("t2v", "t2v.pipelines", "t2v.rewards"):
    out[name] = importlib.import_module(name).__file__
for name in ("pipelines", "rewards"):
    try:
        out[name] = importlib.import_module(name).__file__
    except ModuleNotFoundError as e:
        out[name] = None if e.name == name else f"ModuleNotFoundError for {e.name!r}"
weights = importlib.resources.files("t2v") / "weights" / "tiny-shapes" / "unet" / "diffusion_pytorch_model.safetensors"
out["weights"] = weights.is_file()
print(json.dumps(out))
"""


def _setuptools_config() -> dict:
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert isinstance(cfg.get("packages"), list), "[tool.setuptools] packages must be an explicit list: " \
        "packages.find names a package after its folder, so it would install a top-level `pipelines`"
    assert isinstance(cfg.get("package-dir"), dict), "[tool.setuptools] needs package-dir"
    return cfg


def _package_roots() -> dict[str, Path]:
    """package-dir: package name -> the folder it comes from (setuptools resolves subpackages below it)."""
    return {name: REPO / folder for name, folder in _setuptools_config()["package-dir"].items() if name}


def _listed_packages() -> dict[str, Path]:
    """Each package of pyproject.toml's explicit list -> its folder, by the longest package-dir prefix."""
    mapping = _setuptools_config()["package-dir"]
    out = {}
    for pkg in _setuptools_config()["packages"]:
        parts = pkg.split(".")
        for i in range(len(parts), -1, -1):
            prefix = ".".join(parts[:i])
            if prefix in mapping:
                out[pkg] = (REPO / mapping[prefix]).joinpath(*parts[i:])
                break
        else:
            out[pkg] = REPO.joinpath(*parts)
    return out


def _packages_on_disk() -> tuple[dict[str, Path], list[str]]:
    """Package name -> folder for every folder with an __init__.py under the package roots, plus problems."""
    roots = _package_roots()
    found: dict[str, Path] = {}
    problems: list[str] = []
    for root_name, root in roots.items():
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            folder = Path(folder)
            name = ".".join((root_name, *folder.relative_to(root).parts))
            if name in roots and roots[name] != folder:
                problems.append(f"{folder.relative_to(REPO)} is shadowed by package-dir {name} -> "
                                f"{roots[name].relative_to(REPO)}")
                dirnames[:] = []
                continue
            if "__init__.py" in filenames:
                found[name] = folder
            elif any(f.endswith(".py") for f in filenames):
                problems.append(f"{folder.relative_to(REPO)} has Python modules but no __init__.py, so it would "
                                "not be packaged")
    return found, problems


def _run_probe(cmd: list[str], cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{cmd[:3]} failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pyproject_lists_exactly_the_package_folders_on_disk():
    listed = _listed_packages()
    outside = sorted(p for p in listed if p != "t2v" and not p.startswith("t2v."))
    assert not outside, f"packages outside t2v would install at top level: {outside}"
    for name in TOP_LEVEL_NAMES:
        assert _package_roots().get(f"t2v.{name}") == REPO / name, f"package-dir must map t2v.{name} -> {name}"

    found, problems = _packages_on_disk()
    assert not problems, "\n".join(problems)
    unlisted = sorted(set(found) - set(listed))
    assert not unlisted, f"add these to [tool.setuptools] packages in pyproject.toml: {unlisted}"
    gone = sorted(set(listed) - set(found))
    assert not gone, f"pyproject.toml lists packages with no folder and __init__.py: {gone}"
    moved = {p: str(listed[p].relative_to(REPO)) for p in listed if listed[p] != found[p]}
    assert not moved, f"package-dir maps these somewhere other than their folder: {moved}"


def test_installed_t2v_imports_pipelines_and_rewards_only_under_t2v(tmp_path):
    """The install this suite runs in (the editable one of `make install`), seen from outside the checkout."""
    out = _run_probe([sys.executable, "-c", PROBE], cwd=tmp_path)
    for name in TOP_LEVEL_NAMES:
        assert out[name] is None, f"`import {name}` should fail, got {out[name]} (stale install? `make install`)"
    if Path(out["t2v"]).resolve() == (REPO / "t2v" / "__init__.py").resolve():  # editable: the checkout's files
        for name in TOP_LEVEL_NAMES:
            assert Path(out[f"t2v.{name}"]).resolve() == (REPO / name / "__init__.py").resolve()
    assert out["weights"]


def _copy_sources(dest: Path) -> None:
    """What the build reads: pyproject.toml, the readme and the package folders, without build leftovers."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for folder in {p.relative_to(REPO).parts[0] for p in _package_roots().values()}:
        shutil.copytree(REPO / folder, dest / folder, ignore=ignore)


def _expected_wheel_files() -> set[str]:
    """Every module on disk at the path its package has in the wheel, plus every file under t2v/weights and
    rewards/weights (the embedded model and the default reward's network)."""
    files = set()
    for pkg, folder in _packages_on_disk()[0].items():
        files |= {"/".join((*pkg.split("."), f.name)) for f in folder.glob("*.py")}
    for source, installed in (("t2v", "t2v"), ("rewards", "t2v/rewards")):
        weights = REPO / source / "weights"
        files |= {f"{installed}/weights/{p.relative_to(weights).as_posix()}" for p in weights.rglob("*") if p.is_file()}
    return files


@pytest.mark.slow
def test_wheel_ships_and_imports_pipelines_and_rewards_under_t2v(tmp_path):
    pytest.importorskip("setuptools", reason="the dev extra installs setuptools for this build")
    src, dist, target = tmp_path / "src", tmp_path / "dist", tmp_path / "site"
    _copy_sources(src)  # a copy, so no build/ or egg-info from an earlier build can leak into the wheel
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist),
                            str(src)], capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("t2v-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("t2v/pipelines/__init__.py", "t2v/rewards/__init__.py",
                     "t2v/weights/tiny-shapes/unet/diffusion_pytorch_model.safetensors",
                     "t2v/weights/tiny-shapes/vae/diffusion_pytorch_model.safetensors"):
        assert required in names
    missing = sorted(_expected_wheel_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"t2v"}, f"the wheel installs top-level {sorted(top - {'t2v'})}"
    (top_level_txt,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    assert zipfile.ZipFile(wheel).read(top_level_txt).decode().split() == ["t2v"]

    install = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                             capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    # -I -S: no site, so no .pth file of this environment runs, the editable install's finder among them.
    # The wheel's folder comes first; this environment's site-packages come last, only for torch & co.
    deps = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    code = f"import sys; sys.path[:0] = [{str(target)!r}]; sys.path += {deps!r}\n" + PROBE
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    out = _run_probe([sys.executable, "-I", "-S", "-c", code], cwd=cwd)
    for name in ("t2v", "t2v.pipelines", "t2v.rewards"):
        assert Path(out[name]).is_relative_to(target), f"{name} came from {out[name]}, not the wheel"
    for name in TOP_LEVEL_NAMES:
        assert out[name] is None, f"`import {name}` should fail from the wheel's install, got {out[name]}"
    assert out["weights"]
