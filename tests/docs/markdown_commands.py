"""The shell commands of the documentation: every simple command of every fenced ``bash``, ``sh``,
``shell`` or ``console`` block of README.md and docs/*.md, with the file and line it is on."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell"})
CONSOLE_LANGUAGES = frozenset({"console", "shell-session"})
OPERATORS = frozenset({"&&", "||", ";", "|", "&"})
PROMPT = re.compile(r"^\s*(?:\([\w.-]+\)\s*)?\$ ")  # "$ cmd" or "(.venv) $ cmd"
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PLACEHOLDER = re.compile(r"<([A-Za-z_][\w-]*)>")


@dataclass(frozen=True)
class DocCommand:
    """One simple command (no ``&&``, ``|`` or ``;``) as a reader would type it.

    Attributes:
        path: the Markdown file, relative to the project root.
        line: 1-based line of the command in that file.
        text: the whole command line as written (continuations joined).
        argv: the words, ``NAME=value`` prefixes removed, placeholders kept (``<loss>``).
        env: the ``NAME=value`` prefixes.
    """

    path: str
    line: int
    text: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def placeholders(self) -> list[str]:
        """The ``<name>`` placeholders of the command, in order."""
        return [name for word in self.argv for name in PLACEHOLDER.findall(word)]


def _logical_lines(content: str, console: bool) -> list[tuple[int, str]]:
    """(offset of the first line, line) with backslash continuations joined; in a console block
    only the lines after a ``$`` prompt, the rest being output."""
    lines, pending, start = [], "", 0
    for offset, raw in enumerate(content.splitlines()):
        text = raw
        if not pending:
            if console:
                if not PROMPT.match(raw):
                    continue
                text = PROMPT.sub("", raw, count=1)
            start = offset
        if text.rstrip().endswith("\\"):
            pending += text.rstrip()[:-1] + " "
            continue
        lines.append((start, pending + text))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


def _simple_commands(line: str) -> list[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def commands_in(path: Path, root: Path) -> list[DocCommand]:
    """Every simple command of the shell and console blocks of one Markdown file."""
    relative = path.relative_to(root).as_posix()
    found = []
    for token in MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8")):
        language = token.info.strip().split(" ")[0].lower() if token.type == "fence" else ""
        if language not in SHELL_LANGUAGES | CONSOLE_LANGUAGES or token.map is None:
            continue
        first_line = token.map[0] + 2  # the fence is on map[0] (0-based); the content starts after it
        for offset, line in _logical_lines(token.content, console=language in CONSOLE_LANGUAGES):
            for words in _simple_commands(line):
                env = {}
                while words and ASSIGNMENT.match(words[0]) and len(words) > 1:
                    name, _, value = words.pop(0).partition("=")
                    env[name] = value
                found.append(DocCommand(relative, first_line + offset, line.strip(), tuple(words), env))
    return found


def documentation_files(root: Path) -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def all_commands(root: Path) -> list[DocCommand]:
    """The commands of every documentation file, in file and line order."""
    return [command for path in documentation_files(root) for command in commands_in(path, root)]
