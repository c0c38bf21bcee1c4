"""The dashboard's Node toolchain for tests: ``npm ci`` once, ``npm run build`` when stale."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"
SOURCE_GLOBS = ("src/**/*", "index.html", "vite.config.ts", "package-lock.json", "public/*")


def npm(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run npm in frontend/; fail the test with its output when it fails."""
    done = subprocess.run(
        ["npm", *args], cwd=FRONTEND, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"npm {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def ensure_node_modules() -> None:
    """Node and the locked dependencies (``npm ci`` when node_modules is missing or older than the lock)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js 20+ and npm are required for the dashboard tests")
    installed = FRONTEND / "node_modules" / ".package-lock.json"
    lock = FRONTEND / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        npm("ci", "--no-audit", "--no-fund", "--loglevel=error")


def ensure_build() -> Path:
    """``frontend/dist``, rebuilt when older than any source file."""
    ensure_node_modules()
    index = DIST / "index.html"
    newest = max(p.stat().st_mtime for g in SOURCE_GLOBS for p in FRONTEND.glob(g) if p.is_file())
    if not index.is_file() or index.stat().st_mtime < newest:
        npm("run", "build", "--silent")
    return DIST
