"""Prompt and answer templates, stored as Markdown files beside this module."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_FOLDER = Path(__file__).parent
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@lru_cache(maxsize=64)
def load_prompt(name: str) -> str:
    path = _FOLDER / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt template named '{name}' in {_FOLDER}")
    return path.read_text(encoding="utf-8").strip()


def render(name: str, **values: str) -> str:
    """Fill `{placeholder}`s; a missing or unused value is an error, not a silent blank."""
    template = load_prompt(name)
    needed = set(_PLACEHOLDER.findall(template))
    if missing := needed - values.keys():
        raise KeyError(f"prompt '{name}' needs {sorted(missing)}")
    if unused := values.keys() - needed:
        raise KeyError(f"prompt '{name}' has no placeholder for {sorted(unused)}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
