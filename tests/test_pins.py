"""The pip pins and environment.yml must agree, and every requirement must be pinned exactly."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([A-Za-z0-9_.\-+]+)$")


def _requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = _PIN.match(line)
        assert m, f"requirements.txt line is not an exact pin: {line!r}"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _environment_pip_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    in_pip = False
    for raw in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.strip() == "- pip:":
            in_pip = True
            continue
        if in_pip and line.strip().startswith("- "):
            m = _PIN.match(line.strip()[2:].strip())
            assert m, f"environment.yml pip entry is not an exact pin: {line!r}"
            pins[m.group(1).lower()] = m.group(2)
        elif in_pip and line.strip():
            in_pip = False
    return pins


def test_pins_requirements_and_environment_yml_agree() -> None:
    assert _requirements() == _environment_pip_pins()


def test_pins_requirements_nonempty() -> None:
    assert "oss2" in _requirements()
