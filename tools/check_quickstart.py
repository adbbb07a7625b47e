"""Check that the README's Quickstart is two commands and that CI runs the second one.

The Quickstart promises a newcomer two commands: install and run the suite, then run its
tests. ``.ci/run`` must run that second command word for word, so what CI proves is what the
README tells.

Usage::

    python tools/check_quickstart.py [README] [CI_SCRIPT]

Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def quickstart_commands(readme: str) -> list[str]:
    """The commands in the code blocks of the README's ``## Quickstart`` section.

    >>> quickstart_commands("## Quickstart\\n```sh\\npip install x\\n```\\n## Next\\n")
    ['pip install x']
    """
    section = re.search(r"^## Quickstart\s*$(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    if section is None:
        return []
    return [
        line.strip()
        for block in FENCE.findall(section.group(1))
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def problems(readme: Path, ci_script: Path) -> list[str]:
    """What is wrong with the Quickstart of ``readme`` and the test command of ``ci_script``."""
    commands = quickstart_commands(readme.read_text(encoding="utf-8"))
    if len(commands) != 2:
        return [f"{readme}: the Quickstart holds {len(commands)} commands, it promises 2"]
    ci_lines = [line.strip() for line in ci_script.read_text(encoding="utf-8").splitlines()]
    if commands[1] not in ci_lines:
        return [f"{ci_script} does not run the README's test command: {commands[1]}"]
    return []


def main(argv: list[str]) -> int:
    """Check the files; print the problems; 0 when there are none."""
    readme = Path(argv[0]) if argv else ROOT / "README.md"
    ci_script = Path(argv[1]) if len(argv) > 1 else ROOT / ".ci" / "run"
    found = problems(readme, ci_script)
    for line in found:
        print(line)
    if found:
        return 1
    print(f"{readme.name}: two Quickstart commands; {ci_script} runs the second")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
