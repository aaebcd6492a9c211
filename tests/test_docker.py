"""docker/ cannot be built here (no Docker engine); it is linted instead."""
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_dockerfile_lints_clean():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(ROOT / "docker" / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_the_readme_setup():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert "FROM debian:12" in text
    assert "RUN bash scripts/setup.sh" in text
    assert 'CMD ["bash", "scripts/demo.sh"]' in text
