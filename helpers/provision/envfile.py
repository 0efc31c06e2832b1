"""The env file `python -m helpers.provision up` writes: `KEY=VALUE` lines a POSIX shell can source.

    values = read_env_file(path)     # {} when the file is missing
    write_env_file(path, values)     # mode 0600 from the first byte, atomic replace

Values are quoted with `shlex.quote`, so `set -a; . FILE; set +a` gives back exactly the strings
written (JSON with quotes and spaces included), and `read_env_file` undoes the same quoting with
`shlex.split`. The file holds secrets: it is created 0600 and never echoed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")

HEADER = ("# Written by `python -m helpers.provision up`: the workbook's settings for Alibaba Cloud.\n"
          "# Holds secrets (mode 0600). Load with: set -a; . THIS_FILE; set +a\n")


class EnvFileError(ValueError):
    """The env file cannot be read as KEY=VALUE lines."""


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=VALUE pairs of `path` ({} if it does not exist); comments and blank lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, raw = line.partition("=")
        try:
            words = shlex.split(raw, posix=True)
        except ValueError:
            words = None
        if not sep or not _NAME.match(name) or words is None or len(words) > 1:
            # The line number only: the line itself may hold a secret.
            raise EnvFileError(f"{path}: line {number} is not KEY=VALUE")
        values[name] = words[0] if words else ""
    return values


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write `values` as sorted, shell-quoted KEY=VALUE lines; mode 0600, atomically replacing `path`."""
    for name, value in values.items():
        if not _NAME.match(name):
            raise EnvFileError(f"not a variable name: {name!r}")
        if "\n" in str(value) or "\r" in str(value):    # one line per variable, for the reader
            raise EnvFileError(f"the value of {name} spans lines")
    body = HEADER + "".join(f"{k}={shlex.quote(str(values[k]))}\n" for k in sorted(values))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
