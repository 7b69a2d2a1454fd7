"""Risk classification of shell commands (binding §9.2).

Shell text is parsed by a real bash parser (:mod:`osop.security.shell`, tree-sitter's
bash grammar).  Every simple command anywhere in the tree — in pipelines, lists,
``if``/``for``/``case`` bodies, functions, subshells, ``$(...)`` and ``<(...)`` — is
unwrapped (``sudo``, ``env``, ``FOO=1`` prefixes, ``timeout``, ``flock``, ``xargs``,
``nice`` ...), matched against the rule table, and anything it runs in turn
(``bash -c '...'``, ``env -S '...'``, ``eval``, ``find -exec``, ``ssh host cmd``, text
piped or here-string'ed into a shell) is classified recursively.  What cannot be
known before the command runs — a variable or a glob as the command, ``eval`` or
``sh -c`` of a variable, text piped into a shell, text the parser cannot read — is
``dangerous`` (rule ``shell-unresolved``).  Paths are normalised (``/etc//passwd``,
``~/..``) before they are matched.  The riskiest rule found anywhere decides the
level.  Nothing that matches no rule is ``safe``: the classifier is a deny-list
that guards against accidents and obvious abuse, not a sandbox.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from tree_sitter import Node

from osop.security.rules import Classification, Level, Reason
from osop.security.shell import Command, Dynamic, Pattern, command_of, parse

__all__ = ["classify_command"]

_MAX_DEPTH: Final = 8
#: Longest text handed to the parser (a command line, not a program).
_MAX_TEXT: Final = 1_000_000

_OSOP_REFERENCE: Final = re.compile(
    r"\$\{\s*(?:inputs|outputs|secrets|env|metadata|loop|variables)\b[^{}]*\}"
)
_FORK_BOMB: Final = re.compile(r"([\w:.]+)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&")
_DOWNLOAD_WORD: Final = re.compile(r"\b(?:curl|wget|fetch|aria2c|lwp-request|lwp-download)\b")
#: Unparsable text: a downloader word followed, after a pipe, by a shell word.
_HIDDEN_DOWNLOAD_PIPE: Final = re.compile(
    r"\b(?:curl|wget|fetch|aria2c)\b.*\|\s*(?:\S*/)?(?:sudo\s+)?(?:ba|z|k|da|fi|a|mk)?sh\b",
    re.DOTALL,
)

_DOWNLOADERS: Final = frozenset(
    {"curl", "wget", "fetch", "aria2c", "http", "https", "lwp-request", "lwp-download"}
)
_SHELLS: Final = frozenset({"sh", "bash", "zsh", "ksh", "dash", "fish", "ash", "mksh", "tcsh"})
_INTERPRETERS: Final = _SHELLS | frozenset(
    {"python", "python2", "python3", "perl", "ruby", "node", "php", "pwsh", "powershell", "lua"}
)
#: Programs that turn encoded text back into text (obfuscation when piped to a shell).
_DECODERS: Final = frozenset(
    {
        "base64",
        "base32",
        "basenc",
        "xxd",
        "openssl",
        "uudecode",
        "gunzip",
        "zcat",
        "gzip",
        "bzcat",
        "bunzip2",
        "xzcat",
        "unxz",
        "zstdcat",
        "rev",
        "tr",
        "od",
        "perl",
        "python",
        "python3",
        "awk",
        "sed",
    }
)
_ECHOES: Final = frozenset({"echo", "printf"})
_SQL_CLIENTS: Final = frozenset(
    {
        "psql",
        "mysql",
        "mariadb",
        "sqlite3",
        "sqlcmd",
        "clickhouse-client",
        "cockroach",
        "duckdb",
        "snowsql",
        "bq",
    }
)
_NETWORK: Final = _DOWNLOADERS | frozenset(
    {"ssh", "scp", "sftp", "ftp", "rsync", "nc", "ncat", "netcat", "telnet", "socat"}
)
_PACKAGE_MANAGERS: Final[dict[str, frozenset[str]]] = {
    "npm": frozenset({"install", "i", "ci", "add", "uninstall", "remove", "rm", "update"}),
    "yarn": frozenset({"add", "install", "remove", "upgrade"}),
    "pnpm": frozenset({"add", "install", "i", "remove", "update"}),
    "pip": frozenset({"install", "uninstall", "download"}),
    "pip3": frozenset({"install", "uninstall", "download"}),
    "pipx": frozenset({"install", "uninstall", "upgrade"}),
    "uv": frozenset({"pip", "add", "sync", "tool"}),
    "poetry": frozenset({"add", "install", "remove", "update"}),
    "conda": frozenset({"install", "remove", "update", "create"}),
    "apt": frozenset({"install", "remove", "purge", "upgrade", "dist-upgrade", "autoremove"}),
    "apt-get": frozenset({"install", "remove", "purge", "upgrade", "dist-upgrade", "autoremove"}),
    "yum": frozenset({"install", "remove", "update", "erase"}),
    "dnf": frozenset({"install", "remove", "update", "erase"}),
    "zypper": frozenset({"install", "in", "remove", "rm", "update"}),
    "apk": frozenset({"add", "del", "upgrade"}),
    "brew": frozenset({"install", "uninstall", "upgrade", "reinstall"}),
    "gem": frozenset({"install", "uninstall", "update"}),
    "cargo": frozenset({"install", "uninstall"}),
    "go": frozenset({"install", "get"}),
    "composer": frozenset({"install", "require", "remove", "update"}),
}
_POWER: Final = frozenset({"shutdown", "reboot", "halt", "poweroff"})
_PROTECTED_FILES: Final = frozenset(
    {"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers"}
)
_FILE_WRITERS: Final = frozenset(
    {"tee", "cp", "mv", "install", "ln", "rsync", "truncate", "sed", "perl", "rm", "chmod", "chown"}
)
_ROOT_TARGETS: Final = frozenset(
    {"~", "~/", "~/*", "$HOME", "${HOME}", "$HOME/", "${HOME}/", "$HOME/*", "${HOME}/*", "/*"}
)
_SAFE_DEVICES: Final = re.compile(r"^/dev/(?:null|zero|u?random|stdout|stderr|stdin|tty|fd/\d+)$")
_BLOCK_DEVICE: Final = re.compile(r"^/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|mapper/|md|dm-|loop)")
_ASSIGNMENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
#: Wrappers that run the rest of their arguments as a command: name → options taking a value.
_WRAPPERS: Final[dict[str, frozenset[str]]] = {
    "sudo": frozenset(
        {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user", "--group"}
    ),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "--unset", "--chdir", "-P"}),
    "nohup": frozenset(),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "--class", "--classdata"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "setsid": frozenset(),
    "caffeinate": frozenset({"-t", "-w"}),
    "unbuffer": frozenset(),
    "chrt": frozenset(),
    "taskset": frozenset(),
    "unshare": frozenset({"--map-user", "--map-group", "-S", "-G", "--setuid", "--setgid"}),
    "nsenter": frozenset({"-t", "--target", "-S", "-G"}),
    "strace": frozenset({"-e", "-o", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-P", "-S", "-X"}),
    "ltrace": frozenset({"-e", "-o", "-p", "-s", "-u", "-n", "-a"}),
    "runuser": frozenset({"-u", "-g", "-G", "--user", "--group", "-s", "--shell"}),
    "flock": frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}),
    "xargs": frozenset(
        {"-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a", "-i", "--arg-file", "--delimiter"}
    ),
    "doas-like": frozenset(),
    "busybox": frozenset(),
    "chroot": frozenset({"--userspec", "--groups"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
    "parallel": frozenset({"-j", "--jobs", "-S", "--sshlogin"}),
    "sg": frozenset(),
    "catchsegv": frozenset(),
    "proxychains": frozenset({"-f"}),
    "torsocks": frozenset(),
}
_PRIVILEGED: Final = frozenset({"sudo", "doas", "runuser", "su", "chroot", "nsenter", "sg"})
#: Wrappers whose first operand is not the command (a file, a directory, a duration ...).
_SKIP_OPERAND: Final = frozenset({"flock", "chroot", "timeout", "sg"})
#: Wrappers that take a command line as one string (run by ``sh -c``): option → how.
_SCRIPT_OPTIONS: Final[dict[str, frozenset[str]]] = {
    "env": frozenset({"-S", "--split-string"}),
    "flock": frozenset({"-c", "--command"}),
    "runuser": frozenset({"-c", "--command"}),
    "su": frozenset({"-c", "--command"}),
    "script": frozenset({"-c", "--command"}),
    "sudo": frozenset(),
}
_STDIN_FILES: Final = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "-"})
_UNRESOLVED = "shell-unresolved"


def _name(word: str) -> str:
    base = posixpath.basename(word.lstrip("\\"))
    return base[:-4] if base.lower().endswith(".exe") else base


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _dynamic(word: str) -> bool:
    return isinstance(word, Dynamic)


def _downloads(word: str) -> bool:
    """A dynamic word fed by a command substitution that downloads something."""
    return isinstance(word, Dynamic) and any(_DOWNLOAD_WORD.search(s) for s in word.substitutions)


@dataclass(slots=True)
class _Target:
    """What a simple command finally runs, after its wrappers."""

    argv: list[str]
    privileged: bool = False
    #: Its arguments come from standard input (``xargs CMD``).
    via_xargs: bool = False
    #: Command lines that wrappers run through a shell (``env -S``, ``flock -c`` ...).
    scripts: list[str] = field(default_factory=list)
    #: The wrapper runs nothing (``command -v x``).
    lookup: bool = False


def _unwrap(words: Sequence[str]) -> _Target:
    """Drop ``VAR=x`` prefixes and wrappers: what runs in the end, and how."""
    argv = list(words)
    target = _Target(argv)
    while argv:
        if _ASSIGNMENT.match(argv[0]) and not _dynamic(argv[0]):
            argv.pop(0)
            continue
        head = _name(argv[0])
        if head == "command" and len(argv) > 1 and argv[1] in ("-v", "-V"):
            target.lookup = True
            argv = []
            break
        if head == "busybox" and len(argv) > 1:
            argv = argv[1:]
            continue
        if head not in _WRAPPERS or head in ("doas-like",):
            break
        target.privileged = target.privileged or head in _PRIVILEGED
        target.via_xargs = target.via_xargs or head in ("xargs", "parallel")
        takes_value = _WRAPPERS[head]
        scripts = _SCRIPT_OPTIONS.get(head, frozenset())
        argv.pop(0)
        while argv and (
            argv[0].startswith(("-", "+"))
            or (head == "env" and _ASSIGNMENT.match(argv[0]))
            or (head == "nice" and argv[0].lstrip("-+").isdigit())
        ):
            option = argv.pop(0)
            if option == "--":
                break
            name, _, attached = option.partition("=")
            if name in scripts or (head == "env" and name.startswith("-S") and len(name) > 2):
                value = attached or (name[2:] if name.startswith("-S") and len(name) > 2 else "")
                if not value and argv:
                    value = argv.pop(0)
                target.scripts.append(value)
                continue
            if name in takes_value and not attached and argv:
                argv.pop(0)
        if head in _SKIP_OPERAND and argv:
            argv.pop(0)
            if head == "flock" and argv and argv[0] in ("-c", "--command"):
                argv.pop(0)
                if argv:
                    target.scripts.append(argv.pop(0))
                argv = []
        if head == "taskset" and argv and not _name(argv[0]).isidentifier():
            argv.pop(0)  # the CPU mask
        if head == "chrt" and argv and argv[0].isdigit():
            argv.pop(0)  # the priority
        if head == "parallel" and ":::" in argv:
            argv = argv[: argv.index(":::")]
        if head == "time" and argv and argv[0] == "-p":
            argv.pop(0)
    target.argv = argv
    return target


def _shell_script(args: Sequence[str]) -> tuple[str | None, bool, bool]:
    """``(script, reads_stdin, runs_file)`` of ``sh ARGS``: the ``-c`` text, stdin, or a file."""
    command_flag = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--" or arg == "-":
            i += 1
            break
        if arg.startswith("--"):
            if arg in ("--rcfile", "--init-file") and i + 1 < len(args):
                i += 1
            i += 1
            continue
        if arg.startswith(("-", "+")) and len(arg) > 1:
            letters = arg[1:]
            if "c" in letters:
                command_flag = True
            if "s" in letters:
                return None, True, False
            if ("o" in letters or "O" in letters) and i + 1 < len(args):
                i += 1
            i += 1
            continue
        break
    rest = list(args[i:])
    if command_flag:
        return (rest[0] if rest else None), not rest, False
    if not rest:
        return None, True, False
    return None, rest[0] in _STDIN_FILES, True


def _reads_stdin(target: _Target) -> bool:
    """Whether the command executes what arrives on its standard input."""
    if not target.argv:
        return False
    head = _name(target.argv[0])
    args = target.argv[1:]
    if head in _SHELLS or head in (".", "source"):
        if head in (".", "source"):
            return bool(args) and args[0] in _STDIN_FILES
        script, reads, _ = _shell_script(args)
        if target.via_xargs and script is not None:
            return "{}" in script or "$@" in script or "$1" in script
        return reads or target.via_xargs
    if head in _INTERPRETERS:
        if target.via_xargs:
            return True
        for arg in args:
            if arg in ("-s", "-", "--") or arg in _STDIN_FILES:
                return True
            if arg in ("-c", "-m", "-e", "-r", "-E"):
                return False
            if not arg.startswith("-"):
                return False
        return True
    return False


def _decodes(target: _Target) -> bool:
    if not target.argv:
        return False
    head = _name(target.argv[0])
    args = target.argv[1:]
    if head in ("base64", "base32", "basenc"):
        return any(a in ("-d", "--decode", "-D") or (a.startswith("-") and "d" in a) for a in args)
    if head == "xxd":
        return any(a.startswith("-") and "r" in a for a in args)
    if head == "openssl":
        return any(a in ("-d", "-base64", "-a", "base64", "-A") for a in args)
    if head in ("gzip", "basenc"):
        return any(a in ("-d", "--decompress", "-dc", "-cd") for a in args)
    if head in ("perl", "python", "python3", "awk", "sed", "od", "tr"):
        return False  # transforms, judged as the producer of unknown text below
    return head in _DECODERS


class _Classifier:
    def __init__(self, env: Mapping[str, str] | None) -> None:
        self.reasons: list[Reason] = []
        self.env = env

    def add(self, rule: str, level: Level, matched: str) -> None:
        self.reasons.append(Reason(rule, level, _short(matched)))

    # -- text -------------------------------------------------------------

    def text(self, text: str, depth: int) -> None:
        """Classify shell text (a ``sh -c`` script, a command line)."""
        if depth > _MAX_DEPTH:
            self.add("nesting-too-deep", "blocked", text)
            return
        if len(text) > _MAX_TEXT:
            self.add(_UNRESOLVED, "dangerous", text[:120])
            return
        # An OSOP reference not yet interpolated (a workflow read before it runs) is
        # a value known only at run time: read it as a shell variable.
        text = _OSOP_REFERENCE.sub("${OSOP_VALUE}", text)
        bomb = _FORK_BOMB.search(text)
        if bomb:
            self.add("fork-bomb", "blocked", bomb.group(0))
        root = parse(text)
        if root.has_error:
            self.add(_UNRESOLVED, "dangerous", f"text the shell parser cannot read: {text}")
            hidden = _HIDDEN_DOWNLOAD_PIPE.search(text)
            if hidden:
                self.add("download-pipe-shell", "blocked", hidden.group(0))
        # Iterative walk; a command/process substitution counts toward the nesting
        # limit like ``sh -c`` does.
        stack: list[tuple[Node, int]] = [(root, depth)]
        merged: set[int] = set()
        while stack:
            node, level = stack.pop()
            if node.type in ("command_substitution", "process_substitution"):
                level += 1
                if level > _MAX_DEPTH:
                    self.add("nesting-too-deep", "blocked", text)
                    continue
            if node.type == "pipeline" and node.id not in merged:
                self.pipeline(_pipeline_elements(node, merged), level)
            elif (
                node.type in ("command", "redirected_statement")
                and not _in_pipeline(node)
                and not (node.type == "command" and _parent_is_redirect(node))
            ):
                self.pipeline([node], level)
            stack.extend((child, level) for child in reversed(node.children))

    def pipeline(self, nodes: Sequence[Node], depth: int) -> None:
        commands = [
            command_of(n, self.env) if n.type in ("command", "redirected_statement") else None
            for n in nodes
        ]
        argvs = [[] if command is None else self.argv_of(command) for command in commands]
        targets: list[_Target | None] = [
            None if command is None else _unwrap(argv)
            for command, argv in zip(commands, argvs, strict=True)
        ]
        for j, consumer in enumerate(targets):
            if consumer is None or not _reads_stdin(consumer) or j == 0:
                continue
            producers = [t for t in targets[:j]]
            shown = " | ".join(c.text for c in commands[: j + 1] if c is not None)
            heads = [_name(t.argv[0]) if t and t.argv else "" for t in producers]
            if any(h in _DOWNLOADERS for h in heads):
                self.add("download-pipe-shell", "blocked", shown)
            elif any(t is not None and _decodes(t) for t in producers):
                self.add("decode-exec", "dangerous", shown)
            else:
                text = _static_echo(producers[-1]) if j == 1 else None
                if text is not None:
                    self.text(text, depth + 1)
                else:
                    self.add(_UNRESOLVED, "dangerous", f"a shell runs text piped into it: {shown}")
        names = [_name(t.argv[0]) if t and t.argv else "" for t in targets]
        if any(h in _SQL_CLIENTS for h in names):
            from osop.security.sql import sql_reasons  # only a database client needs it

            sql = " ".join(" ".join(argv) for argv in argvs)
            self.reasons.extend(sql_reasons(sql))
        for command, target in zip(commands, targets, strict=True):
            if command is not None and target is not None:
                self.simple(command, target, depth)

    def argv_of(self, command: Command) -> list[str]:
        """The command's words; an unquoted variable splits into several words."""
        out: list[str] = []
        for word in command.words:
            if word.static and word.splits:
                out.extend(word.value.split())
            else:
                out.append(word.as_arg())
        return out

    # -- one simple command ---------------------------------------------------

    def simple(self, command: Command, target: _Target, depth: int) -> None:
        shown = command.text
        for _op, word in command.writes:
            if word.static or word.splits:
                self.write_target(word.value, shown)
        for text in command.stdin_text:
            if target.argv and _reads_stdin(_Target(target.argv)):
                if text is None:
                    self.add(
                        _UNRESOLVED, "dangerous", f"a shell runs text known at run time: {shown}"
                    )
                else:
                    self.text(text, depth + 1)
        self.target(target, depth, shown)

    def target(self, target: _Target, depth: int, shown: str) -> None:
        if target.privileged:
            self.add("privileged", "moderate", shown)
        for script in target.scripts:
            self.script(script, depth, shown)
        if target.argv and not target.lookup:
            head = target.argv[0]
            if _dynamic(head):
                if _downloads(head):
                    self.add("download-exec", "blocked", shown)
                self.add(
                    _UNRESOLVED, "dangerous", f"the command is only known at run time: {shown}"
                )
            elif isinstance(head, Pattern):
                self.add(_UNRESOLVED, "dangerous", f"the command is a file-name pattern: {shown}")
            self.argv(target.argv, depth, shown)

    def script(self, script: str, depth: int, shown: str) -> None:
        """Shell text that a command runs (``sh -c SCRIPT``, ``env -S``, ``eval``)."""
        if _downloads(script):
            self.add("download-exec", "blocked", shown)
        if _dynamic(script):
            self.add(_UNRESOLVED, "dangerous", f"a shell runs text known at run time: {shown}")
            return
        self.text(script, depth + 1)

    def write_target(self, target: str, shown: str) -> None:
        path = _normalise(target, self.env)
        if path in _PROTECTED_FILES or path.startswith("/etc/sudoers.d/"):
            self.add("system-file-write", "blocked", shown)
        elif _BLOCK_DEVICE.match(path) and not _SAFE_DEVICES.match(path):
            self.add("device-write", "dangerous", shown)

    def argv(self, argv: Sequence[str], depth: int, shown: str) -> None:
        if depth > _MAX_DEPTH:
            self.add("nesting-too-deep", "blocked", shown)
            return
        head = _name(argv[0])
        args = list(argv[1:])
        in_place = head not in ("sed", "perl") or any(a.startswith("-i") for a in args)
        if head in _FILE_WRITERS and in_place:
            for arg in args:
                path = _normalise(arg.split("=", 1)[1] if arg.startswith("of=") else arg, self.env)
                if path in _PROTECTED_FILES or path.startswith("/etc/sudoers.d/"):
                    self.add("system-file-write", "blocked", shown)
        handler = _HANDLERS.get(head)
        if handler is not None:
            handler(self, args, depth, shown)
        elif head.startswith("mkfs"):
            self.add("disk-format", "dangerous", shown)
        elif head in _NETWORK:
            self.add("network", "moderate", shown)
        elif head in _PACKAGE_MANAGERS:
            if any(a in _PACKAGE_MANAGERS[head] for a in args[:3]):
                self.add("package-install", "moderate", shown)
        elif head in _POWER:
            self.add("power", "dangerous", shown)
        self.nested(head, args, depth, shown)

    def nested(self, head: str, args: list[str], depth: int, shown: str) -> None:
        """Classify commands that ``head`` itself runs."""
        if head in _SHELLS:
            script, _, runs_file = _shell_script(args)
            if script is not None:
                self.script(script, depth, shown)
            elif runs_file:
                operand = next((a for a in args if not a.startswith("-")), "")
                if _downloads(operand):
                    self.add("download-exec", "blocked", shown)
                elif _dynamic(operand):
                    self.add(
                        _UNRESOLVED, "dangerous", f"a shell runs a file known at run time: {shown}"
                    )
        elif head in (".", "source"):
            if args and _downloads(args[0]):
                self.add("download-exec", "blocked", shown)
            elif args and _dynamic(args[0]):
                self.add(
                    _UNRESOLVED, "dangerous", f"a shell runs a file known at run time: {shown}"
                )
        elif head == "eval":
            if any(_downloads(a) for a in args):
                self.add("download-exec", "blocked", shown)
            if any(_dynamic(a) for a in args):
                self.add(_UNRESOLVED, "dangerous", f"eval of text known at run time: {shown}")
            else:
                self.text(" ".join(args), depth + 1)
        elif head in ("watch",):
            rest = list(args)
            while rest and rest[0].startswith("-"):
                option = rest.pop(0)
                if option in ("-n", "-d", "--interval", "-c") and rest and option != "-c":
                    rest.pop(0)
            if rest:
                self.script(" ".join(rest), depth, shown)
        elif head in ("su", "script"):
            for i, arg in enumerate(args):
                if arg in ("-c", "--command") or (arg.startswith("-") and arg.endswith("c")):
                    if i + 1 < len(args):
                        self.script(args[i + 1], depth, shown)
                    break
        elif head == "find":
            for i, arg in enumerate(args):
                if arg in ("-exec", "-execdir", "-ok", "-okdir"):
                    inner = []
                    for word in args[i + 1 :]:
                        if word in (";", "+", "\\;"):
                            break
                        inner.append(word)
                    if inner:
                        self.target(_unwrap(inner), depth + 1, " ".join(inner))
        elif head == "ssh":
            rest = list(args)
            while rest and rest[0].startswith("-"):
                option = rest.pop(0)
                if option in _SSH_VALUE_OPTIONS and rest:
                    rest.pop(0)
            if len(rest) > 1:
                self.script(" ".join(rest[1:]), depth, shown)
        elif head in ("kubectl", "oc", "docker", "podman") and "exec" in args and "--" in args:
            inner = args[args.index("--") + 1 :]
            if inner:
                self.target(_unwrap(inner), depth + 1, " ".join(inner))


_SSH_VALUE_OPTIONS: Final = frozenset(
    [
        "-p",
        "-i",
        "-l",
        "-o",
        "-F",
        "-J",
        "-L",
        "-R",
        "-D",
        "-E",
        "-b",
        "-c",
        "-m",
        "-S",
        "-W",
        "-w",
        "-e",
        "-O",
        "-Q",
        "-B",
    ]
)


def _pipeline_elements(node: Node, merged: set[int]) -> list[Node]:
    """The commands of a pipeline.

    The grammar reads ``a | b | c && d`` as ``a | (b | c && d)``: a trailing list's
    first part still belongs to the pipeline, so it is merged back in.
    """
    children = [c for c in node.named_children if c.type != "comment"]
    if children and children[-1].type == "list" and children[-1].named_children:
        first = children[-1].named_children[0]
        if first.type == "pipeline":
            merged.add(first.id)
            return children[:-1] + _pipeline_elements(first, merged)
        return [*children[:-1], first]
    return children


def _in_pipeline(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type == "redirected_statement":
        parent = parent.parent
    return parent is not None and parent.type == "pipeline"


def _parent_is_redirect(node: Node) -> bool:
    return node.parent is not None and node.parent.type == "redirected_statement"


def _static_echo(target: _Target | None) -> str | None:
    """The text ``echo``/``printf`` with static words prints (``None`` otherwise)."""
    if target is None or not target.argv or _name(target.argv[0]) not in _ECHOES:
        return None
    words = [w for w in target.argv[1:] if w not in ("-n", "-e", "-E")]
    if any(_dynamic(w) for w in words):
        return None
    return " ".join(words)


def _home(env: Mapping[str, str] | None) -> str:
    home = (env or {}).get("HOME") or os.environ.get("HOME") or "/root"
    return posixpath.normpath(home) if home.startswith("/") else "/root"


def _normalise(path: str, env: Mapping[str, str] | None = None) -> str:
    """An absolute form of ``path`` for matching: ``~``/``$HOME`` expanded, ``..`` and ``//`` folded."""
    home = _home(env)
    for prefix in ("${HOME}", "$HOME", "~"):
        if path == prefix or path.startswith(prefix + "/"):
            path = home + path[len(prefix) :]
            break
    else:
        if path.startswith("~"):
            user, _, rest = path[1:].partition("/")
            path = posixpath.join("/home", user, rest)
    if not path.startswith("/"):
        return path
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/")


def _options(args: Sequence[str]) -> tuple[set[str], set[str], list[str]]:
    """Short flag letters, long options, and operands of a conventional argv."""
    letters: set[str] = set()
    long_options: set[str] = set()
    operands: list[str] = []
    ended = False
    for arg in args:
        if ended or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg.startswith("--"):
            long_options.add(arg.split("=", 1)[0])
        else:
            letters.update(arg[1:])
    return letters, long_options, operands


def _is_root(target: str, env: Mapping[str, str] | None = None) -> bool:
    """``/``, a home folder, or a folder that holds the home folder (``~/..``), maybe with ``/*``."""
    if target in _ROOT_TARGETS:
        return True
    if target.startswith(("~", "$HOME", "${HOME}")) and ".." in target.split("/"):
        return True  # climbing out of a home folder: whose folder it lands in is a guess
    path = _normalise(target, env)
    if not path.startswith("/"):
        return False
    if path.endswith("/*") or path == "/*":
        path = posixpath.dirname(path) or "/"
        path = "/" + path.lstrip("/")
    home = _home(env)
    if path == "/" or path == home or (home + "/").startswith(path.rstrip("/") + "/"):
        return True
    parts = [p for p in path.split("/") if p]
    # /home/<someone> and /Users/<someone>: another person's home folder.
    return len(parts) == 2 and parts[0] in ("home", "Users") and "*" not in parts[1]


def _is_broad(target: str, env: Mapping[str, str] | None = None) -> bool:
    if target in (".", "..", "./", "../", "*", "./*", "../*") or "*" in target:
        return True
    if target.startswith("$") or "${" in target or _dynamic(target):
        return True
    path = _normalise(target, env)
    if path.startswith("/"):
        depth = len([p for p in path.split("/") if p])
        return depth <= 1
    return target.startswith("~") or ".." in target.split("/")


def _rm(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, long_options, targets = _options(args)
    recursive = bool(letters & {"r", "R"}) or "--recursive" in long_options
    force = "f" in letters or "--force" in long_options
    if "--no-preserve-root" in long_options or (
        recursive and any(_is_root(t, c.env) for t in targets)
    ):
        c.add("rm-root", "blocked", shown)
    elif recursive and (force or any(_is_broad(t, c.env) for t in targets)):
        c.add("rm-recursive", "dangerous", shown)
    else:
        c.add("file-delete", "moderate", shown)


def _rmdir(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("file-delete", "moderate", shown)


def _find(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if "-delete" in args:
        c.add("find-delete", "dangerous", shown)


def _shred(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("shred", "dangerous", shown)


def _disk(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("disk-format", "dangerous", shown)


def _dd(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    for arg in args:
        if arg.startswith("of="):
            target = _normalise(arg[3:], c.env)
            if target in _PROTECTED_FILES:
                c.add("system-file-write", "blocked", shown)
            elif target.startswith("/dev/") and not _SAFE_DEVICES.match(target):
                c.add("dd-device", "dangerous", shown)


def _world_writable(mode: str) -> bool:
    """Whether a chmod mode lets everybody write: ``777``, ``0757``, ``a=rwx``, ``o+w``, ``+w``."""
    if re.fullmatch(r"[0-7]{1,4}", mode):
        return bool(int(mode[-1]) & 2)
    for clause in mode.split(","):
        match = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not match:
            continue
        who, op, perms = match.groups()
        if op in "+=" and "w" in perms and (not who or "a" in who or "o" in who):
            return True
    return False


def _chmod(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, long_options, operands = _options(
        [a for a in args if not re.fullmatch(r"-[rwxXst]+", a)]
    )
    recursive = "R" in letters or "--recursive" in long_options
    mode = operands[0] if operands else ""
    if _world_writable(mode) and (recursive or any(_is_root(t, c.env) for t in operands[1:])):
        c.add("chmod-777-recursive", "dangerous", shown)
    else:
        c.add("permission-change", "moderate", shown)


def _chown(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("permission-change", "moderate", shown)


def _init(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if args[:1] in (["0"], ["6"]):
        c.add("power", "dangerous", shown)


def _systemctl(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    _, _, operands = _options(args)
    verb = operands[0] if operands else ""
    if verb in ("reboot", "poweroff", "halt", "kexec", "suspend", "hibernate"):
        c.add("power", "dangerous", shown)
    elif verb in ("start", "stop", "restart", "reload", "enable", "disable", "mask", "kill"):
        c.add("service-control", "moderate", shown)


def _service(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if any(a in ("start", "stop", "restart", "reload") for a in args):
        c.add("service-control", "moderate", shown)


def _kill(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if "-1" in args[1:]:
        c.add("kill-all", "dangerous", shown)
    else:
        c.add("kill-process", "moderate", shown)


def _killall5(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("kill-all", "dangerous", shown)


def _killall(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("kill-process", "moderate", shown)


def _crontab(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, _, _ = _options(args)
    if "r" in letters:
        c.add("crontab-remove", "dangerous", shown)


def _firewall(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if any(a in ("-F", "--flush", "flush", "-X") for a in args):
        c.add("firewall-flush", "dangerous", shown)


_GIT_OPTIONS_WITH_VALUE: Final = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_GIT_READ_ONLY: Final = frozenset(
    {
        "status",
        "log",
        "diff",
        "show",
        "rev-parse",
        "describe",
        "ls-files",
        "ls-tree",
        "blame",
        "shortlog",
        "grep",
        "cat-file",
        "rev-list",
        "for-each-ref",
        "show-ref",
        "reflog",
        "version",
        "help",
        "whatchanged",
        "name-rev",
        "merge-base",
        "check-ignore",
    }
)
_GIT_NETWORK: Final = frozenset({"clone", "fetch", "pull", "ls-remote", "submodule"})


def _git(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    rest = list(args)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in _GIT_OPTIONS_WITH_VALUE and rest:
            rest.pop(0)
    if not rest:
        return
    sub, sub_args = rest[0], rest[1:]
    letters, long_options, operands = _options(sub_args)
    if sub == "push":
        forced = (
            "f" in letters
            or long_options & {"--force", "--force-with-lease", "--force-if-includes", "--mirror"}
            or any(o.startswith("+") for o in operands)
        )
        if forced:
            c.add("git-force-push", "dangerous", shown)
        elif (
            "d" in letters or "--delete" in long_options or any(o.startswith(":") for o in operands)
        ):
            c.add("git-push-delete", "dangerous", shown)
        else:
            c.add("git-push", "moderate", shown)
    elif sub == "reset" and "--hard" in long_options:
        c.add("git-reset-hard", "dangerous", shown)
    elif sub == "clean" and ("f" in letters or "--force" in long_options):
        c.add("git-clean-force", "dangerous", shown)
    elif sub in ("filter-branch", "filter-repo"):
        c.add("git-history-rewrite", "dangerous", shown)
    elif sub in _GIT_NETWORK:
        c.add("network", "moderate", shown)
    elif (
        sub == "branch" and not (letters & {"d", "D", "m", "M", "c", "C", "f"}) and not operands
    ) or (sub in ("tag", "remote", "config", "stash") and not operands[1:] and not sub_args):
        return
    elif sub not in _GIT_READ_ONLY:
        c.add("git-write", "moderate", shown)


def _kubectl(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    words = args[: args.index("--")] if "--" in args else args
    if "delete" in words or "drain" in words:
        c.add("kubectl-delete", "dangerous", shown)
    elif set(words) & {
        "apply",
        "create",
        "replace",
        "patch",
        "scale",
        "rollout",
        "set",
        "edit",
        "cordon",
        "label",
        "annotate",
        "exec",
    }:
        c.add("infra-change", "moderate", shown)


def _helm(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if "uninstall" in args or "delete" in args:
        c.add("helm-uninstall", "dangerous", shown)
    elif set(args) & {"install", "upgrade", "rollback"}:
        c.add("infra-change", "moderate", shown)


def _terraform(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if "destroy" in args or "-destroy" in args or "--destroy" in args:
        c.add("infra-destroy", "dangerous", shown)
    elif set(args) & {"apply", "import", "taint", "state", "up", "refresh"}:
        c.add("infra-change", "moderate", shown)


def _docker(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    words = [a for a in args if not a.startswith("-")]
    letters, long_options, _ = _options(args)
    if (
        "prune" in words
        or (words[:2] == ["volume", "rm"])
        or ("down" in words and ("v" in letters or "--volumes" in long_options))
    ):
        c.add("docker-prune", "dangerous", shown)
    elif set(words[:2]) & {
        "build",
        "buildx",
        "push",
        "run",
        "rm",
        "rmi",
        "stop",
        "kill",
        "up",
        "down",
        "compose",
        "pull",
        "create",
        "exec",
    }:
        c.add("container-change", "moderate", shown)


def _cloud(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, long_options, words = _options(args)
    destructive = any(
        w.startswith(("delete", "terminate", "remove", "destroy")) or w == "rb" for w in words
    )
    recursive_rm = "rm" in words and ("--recursive" in long_options or "r" in letters)
    if destructive or recursive_rm:
        c.add("cloud-delete", "dangerous", shown)
    else:
        c.add("cloud-cli", "moderate", shown)


def _gsutil(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, long_options, words = _options(args)
    if "rb" in words or ("rm" in words and ("r" in letters or "--recursive" in long_options)):
        c.add("cloud-delete", "dangerous", shown)
    else:
        c.add("cloud-cli", "moderate", shown)


def _python(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    if args[:3] in (["-m", "pip", "install"], ["-m", "pip", "uninstall"]):
        c.add("package-install", "moderate", shown)


def _su(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    c.add("privileged", "moderate", shown)


_Handler = Callable[[_Classifier, list[str], int, str], None]
_HANDLERS: Final[dict[str, _Handler]] = {
    "rm": _rm,
    "rmdir": _rmdir,
    "unlink": _rmdir,
    "find": _find,
    "shred": _shred,
    "fdisk": _disk,
    "sfdisk": _disk,
    "parted": _disk,
    "wipefs": _disk,
    "dd": _dd,
    "chmod": _chmod,
    "chown": _chown,
    "chgrp": _chown,
    "init": _init,
    "telinit": _init,
    "systemctl": _systemctl,
    "service": _service,
    "kill": _kill,
    "killall5": _killall5,
    "killall": _killall,
    "pkill": _killall,
    "crontab": _crontab,
    "iptables": _firewall,
    "ip6tables": _firewall,
    "nft": _firewall,
    "ufw": _firewall,
    "git": _git,
    "kubectl": _kubectl,
    "oc": _kubectl,
    "helm": _helm,
    "terraform": _terraform,
    "tofu": _terraform,
    "terragrunt": _terraform,
    "pulumi": _terraform,
    "docker": _docker,
    "podman": _docker,
    "docker-compose": _docker,
    "aws": _cloud,
    "gcloud": _cloud,
    "az": _cloud,
    "gsutil": _gsutil,
    "python": _python,
    "python3": _python,
    "su": _su,
}


def classify_command(
    command: str | Sequence[str], *, env: Mapping[str, str] | None = None
) -> Classification:
    """Classify a shell command (a string run by ``sh -c``, or an argv list).

    Returns the highest :data:`~osop.security.rules.LEVELS` level of every rule
    that matched, with the reasons (rule id + matched text).  ``env`` is the
    environment the command will run with: variables found in it are classified
    by their values (``$CMD`` with ``CMD="rm -rf /"`` is ``rm -rf /``); other
    variables stay unknown.
    """
    classifier = _Classifier(env)
    try:
        if isinstance(command, str):
            classifier.text(command, 0)
        else:
            argv = [str(w) for w in command]
            if argv:
                classifier.target(_unwrap(argv), 0, " ".join(argv))
    except RecursionError:
        classifier.add("nesting-too-deep", "blocked", str(command)[:120])
    return Classification.of(classifier.reasons)
