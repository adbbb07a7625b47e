"""A real terminal for the monitors: a private tmux server driven through a control client.

::

    with Terminal() as terminal:
        session = terminal.start([sys.executable, "-m", "overseer_tui", "store"])
        lines = terminal.capture(session)  # the screen, with its SGR escapes
        terminal.send_keys(session, "j")
        print(cpu_seconds(terminal.pane_pid(session)))

The server runs on its own socket (``tmux -L``, no config file), so nothing of another tmux
is touched. Commands go through one ``tmux -C`` client (``ignore-size,no-output``) instead
of a process per command: a capture costs about 0.2 ms, so polling the screen every 5 ms
barely loads the machine it measures. Each monitor runs in a fresh 160x50 session.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType

WIDTH, HEIGHT = 160, 50
POLL_SECONDS = 0.005
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
NAME = re.compile(r"\b[a-z]+-[a-z]+\d*\b")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class TerminalError(RuntimeError):
    """tmux refused a command, or a screen never showed what was waited for."""


class Terminal:
    """A tmux server of its own, with a control client to talk to it."""

    def __init__(self, cwd: Path | None = None) -> None:
        self.socket = f"overseer-tui-bench-{os.getpid()}"
        self.cwd = cwd or Path.cwd()
        self.sessions = 0
        self.client: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Terminal:
        base = ["tmux", "-L", self.socket, "-f", "/dev/null"]
        hold = [*base, "new-session", "-d", "-s", "hold", "-x", "80", "-y", "24", "sleep 86400"]
        subprocess.run(hold, check=True)
        command = [*base, "-C", "attach-session", "-f", "ignore-size,no-output", "-t", "hold"]
        self.client = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._sync()
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        socket = None
        if self.client is not None and self.client.poll() is None:
            socket = Path(self.command("display-message -p '#{socket_path}'")[0])
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], check=False, capture_output=True)
        if self.client is not None:
            self.client.kill()
            self.client.wait()
        if socket is not None:
            socket.unlink(missing_ok=True)  # tmux leaves it behind

    def command(self, text: str) -> list[str]:
        """Run one tmux command through the control client; its output lines."""
        assert self.client is not None
        assert self.client.stdin is not None
        self.client.stdin.write(text.encode() + b"\n")
        self.client.stdin.flush()
        return self._reply()

    def _reply(self) -> list[str]:
        """The output of the next block that answers a command of this client.

        A block opens with ``%begin TIME NUMBER FLAGS``; FLAGS is 1 for a command this
        client sent, 0 for one tmux ran by itself (attaching), whose block can come late.
        """
        assert self.client is not None
        assert self.client.stdout is not None
        lines: list[str] | None = None
        ours = False
        while True:
            raw = self.client.stdout.readline()
            if not raw:
                raise TerminalError("the tmux control client exited")
            line = raw.decode(errors="replace").rstrip("\n")
            if lines is None:
                if line.startswith("%begin"):
                    lines, ours = [], line.split()[3:4] == ["1"]
                continue
            if line.startswith(("%end", "%error")):
                if ours and line.startswith("%error"):
                    raise TerminalError(f"tmux: {' '.join(lines) or 'error'}")
                if ours:
                    return lines
                lines = None
                continue
            lines.append(line)

    def _sync(self) -> None:
        """Skip what the client printed on attaching, up to the answer to a marker."""
        assert self.client is not None
        assert self.client.stdin is not None
        self.client.stdin.write(b"display-message -p overseer-sync\n")
        self.client.stdin.flush()
        while "overseer-sync" not in self._reply():
            pass

    def start(self, argv: Sequence[str], env: dict[str, str] | None = None) -> str:
        """Run ``argv`` in a fresh 160x50 session; the session's name."""
        self.sessions += 1
        name = f"run{self.sessions}"
        variables = {"COLORTERM": "truecolor", **(env or {})}
        settings = " ".join(f"-e {shlex.quote(f'{k}={v}')}" for k, v in variables.items())
        shell = shlex.quote("exec " + shlex.join(argv))
        self.command(
            f"new-session -d -s {name} -x {WIDTH} -y {HEIGHT} -c {shlex.quote(str(self.cwd))}"
            f" {settings} {shell}"
        )
        return name

    def stop(self, session: str) -> None:
        """End the session and make sure its process is gone."""
        pid = self.pane_pid(session)
        try:
            self.send_keys(session, "q")
            deadline = time.monotonic() + 3
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        except TerminalError:
            pass
        if alive(pid):
            os.kill(pid, 9)
        if self.has(session):
            self.command(f"kill-session -t {session}")

    def has(self, session: str) -> bool:
        return session in self.command("list-sessions -F '#{session_name}'")

    def pane_pid(self, session: str) -> int:
        return int(self.command(f"display-message -p -t {session} '#{{pane_pid}}'")[0])

    def server_pid(self) -> int:
        return int(self.command("display-message -p '#{pid}'")[0])

    def size(self, session: str) -> str:
        shape = "'#{window_width}x#{window_height}'"
        return self.command(f"display-message -p -t {session} {shape}")[0]

    def capture(self, session: str) -> list[str]:
        """The screen of ``session``, one string a row, with SGR escapes."""
        return self.command(f"capture-pane -p -e -t {session}")

    def send_keys(self, session: str, *keys: str) -> None:
        self.command(f"send-keys -t {session} {' '.join(keys)}")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` used so far, from /proc (10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


Style = tuple[str, str, frozenset[int]]
"""A cell's look: foreground, background (SGR parameters, "" for the default), attributes."""
_UNSET = {22: (1, 2), 23: (3,), 24: (4,), 25: (5, 6), 27: (7,), 28: (8,), 29: (9,)}


@functools.lru_cache(maxsize=4096)
def apply_sgr(style: Style, params: str) -> Style:
    """The style after the SGR sequence ``ESC [ params m``."""
    fg, bg, attributes = style
    flags = set(attributes)
    codes = [int(code) if code.isdigit() else 0 for code in params.replace(":", ";").split(";")]
    index = 0
    while index < len(codes):
        code = codes[index]
        if code in (38, 48):
            size = 3 if codes[index + 1 : index + 2] == [5] else 5
            colour = ";".join(map(str, codes[index : index + size]))
            fg, bg = (colour, bg) if code == 38 else (fg, colour)
            index += size
            continue
        if code == 0:
            fg, bg, flags = "", "", set()
        elif 1 <= code <= 9:
            flags.add(code)
        elif code in _UNSET:
            flags.difference_update(_UNSET[code])
        elif 30 <= code <= 37 or 90 <= code <= 97:
            fg = str(code)
        elif code == 39:
            fg = ""
        elif 40 <= code <= 47 or 100 <= code <= 107:
            bg = str(code)
        elif code == 49:
            bg = ""
        index += 1
    return fg, bg, frozenset(flags)


def style_spans(line: str) -> tuple[str, list[tuple[int, int, Style]]]:
    """The text of a captured row and its spans of one style: (start, end, style)."""
    text: list[str] = []
    spans: list[tuple[int, int, Style]] = []
    current: Style = ("", "", frozenset())
    position = plain = 0
    for match in SGR.finditer(line):
        if match.start() > position:
            chunk = line[position : match.start()]
            text.append(chunk)
            spans.append((plain, plain + len(chunk), current))
            plain += len(chunk)
        current = apply_sgr(current, match.group(1))
        position = match.end()
    if position < len(line):
        text.append(line[position:])
        spans.append((plain, plain + len(line) - position, current))
    return "".join(text), spans


def names_on_screen(
    lines: Iterable[str], names: set[str]
) -> list[tuple[int, str, frozenset[Style]]]:
    """Each run name found: its column, the name, and the styles of its row up to its end."""
    found = []
    for line in lines:
        hits = [m for m in NAME.finditer(SGR.sub("", line)) if m.group() in names]
        if not hits:
            continue
        _, spans = style_spans(line)
        for match in hits:
            styles = frozenset(style for start, _, style in spans if start < match.end())
            found.append((match.start(), match.group(), styles))
    return found


def table_rows(lines: Sequence[str], names: set[str]) -> list[tuple[str, frozenset[Style]]]:
    """The run rows of a table, top to bottom: name and styles up to the name's end.

    Rows are the lines where a run name stands in the column most names stand in: the
    table's name column, not a legend or a title.
    """
    found = names_on_screen(lines, names)
    if not found:
        return []
    column = collections.Counter(x for x, _, _ in found).most_common(1)[0][0]
    return [(name, styles) for x, name, styles in found if x == column]


def cursor_name(lines: Sequence[str], names: set[str]) -> str | None:
    """The run under the cursor: the only table row styled unlike the others, else None."""
    rows = table_rows(lines, names)
    counts = collections.Counter(styles for _, styles in rows)
    unique = [name for name, styles in rows if counts[styles] == 1]
    return unique[0] if len(unique) == 1 and len(rows) > 2 else None


def name_below(lines: Sequence[str], names: set[str], name: str) -> str | None:
    """The run on the table row below ``name``'s, if both are on screen."""
    shown = [row for row, _ in table_rows(lines, names)]
    index = shown.index(name) + 1 if name in shown else len(shown)
    return shown[index] if index < len(shown) else None


def wait_for(
    check: Callable[[], object], timeout: float, poll: float = POLL_SECONDS
) -> tuple[float, object]:
    """Call ``check()`` every ``poll`` seconds until it answers something true.

    Returns:
        the perf_counter time at which the answering call began, and the answer.
    """
    deadline = time.perf_counter() + timeout
    tick = time.perf_counter()
    while True:
        began = time.perf_counter()
        answer = check()
        if answer:
            return began, answer
        if began > deadline:
            raise TerminalError(f"nothing after {timeout:.1f} s")
        tick += poll
        delay = tick - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            tick = time.perf_counter()
