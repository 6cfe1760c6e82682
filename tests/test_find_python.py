"""The set-up command finds a Python 3.12+ on its own, and says clearly when there is none."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "find-python"


def fake_python(folder: Path, name: str, version: str) -> None:
    path = folder / name
    major, minor = version.split(".")
    path.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *sys.exit*) exit {0 if (int(major), int(minor)) >= (3, 12) else 1};; esac\n'
        f'echo "{path}"\n'
    )
    path.chmod(0o755)


def run(folder: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        "PATH": f"{folder}:/usr/bin:/bin",
        "HOME": str(folder),
        "PYENV_ROOT": str(folder / "none"),
    }
    return subprocess.run(
        [shutil.which("bash"), str(SCRIPT)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_an_old_python3_is_passed_over_for_a_newer_one(tmp_path):
    fake_python(tmp_path, "python3", "3.11")
    fake_python(tmp_path, "python3.12", "3.12")
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "python3.12")


def test_no_suitable_python_is_a_clear_error(tmp_path):
    fake_python(tmp_path, "python3", "3.11")
    result = run(tmp_path)
    if result.returncode == 0:  # the machine's own /usr/bin has a 3.12+: nothing to prove here
        assert (
            "3.1"
            in subprocess.run(
                [result.stdout.strip(), "--version"], capture_output=True, text=True
            ).stdout
        )
        return
    assert "Laurel needs Python 3.12 or newer, and none was found." in result.stderr
    assert "LAUREL_PYTHON" in result.stderr


def test_laurel_python_points_at_a_chosen_interpreter(tmp_path):
    result = run(tmp_path, LAUREL_PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert os.path.samefile(result.stdout.strip(), sys.executable)
