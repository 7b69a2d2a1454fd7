"""Risk classification of shell commands (binding §9.2).

A command is split into pipelines of simple commands; each simple command is
unwrapped (``sudo``, ``env``, ``FOO=1`` prefixes, ``timeout``, ``nohup`` ...),
matched against the rule table, and anything it runs in turn (``bash -c '...'``,
``$(...)``, ``xargs``, ``find -exec``, ``ssh host cmd``) is classified
recursively.  The riskiest rule found anywhere decides the level.  Nothing that
matches no rule is ``safe``: the classifier is a deny-list that guards
against accidents and obvious abuse, not a sandbox.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from typing import Final

from osop.security.rules import Classification, Level, Reason
from osop.security.shell import SimpleCommand, split_pipelines, substitutions
from osop.security.sql import sql_reasons

__all__ = ["classify_command"]

_MAX_DEPTH: Final = 8

_FORK_BOMB: Final = re.compile(r"([\w:.]+)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&")
_DOWNLOAD_EXEC: Final = (
    re.compile(r"(?:^|[\s;&|(])(?:\.|source|(?:ba|z|k|da|fi)?sh)\s+<\(\s*(?:curl|wget)\b"),
    re.compile(r"(?:\beval|\b(?:ba|z|k|da)?sh\s+-c)\s+[\"']?(?:\$\(|`)\s*(?:curl|wget|fetch)\b"),
)

_DOWNLOADERS: Final = frozenset({"curl", "wget", "fetch", "aria2c", "http", "https", "lwp-request"})
_SHELLS: Final = frozenset({"sh", "bash", "zsh", "ksh", "dash", "fish", "ash", "mksh", "tcsh"})
_INTERPRETERS: Final = _SHELLS | frozenset(
    {"python", "python2", "python3", "perl", "ruby", "node", "php", "pwsh", "powershell", "lua"}
)
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
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir"}),
    "nohup": frozenset(),
    "time": frozenset({"-f", "-o"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "setsid": frozenset(),
    "caffeinate": frozenset(),
    "unbuffer": frozenset(),
    "chrt": frozenset(),
    "taskset": frozenset(),
    "watch": frozenset({"-n", "-d", "--interval"}),
}
_PRIVILEGED: Final = frozenset({"sudo", "doas"})


def _name(word: str) -> str:
    base = posixpath.basename(word.lstrip("\\"))
    return base[:-4] if base.lower().endswith(".exe") else base


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


class _Classifier:
    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def add(self, rule: str, level: Level, matched: str) -> None:
        self.reasons.append(Reason(rule, level, _short(matched)))

    # -- text and pipelines -------------------------------------------------

    def text(self, text: str, depth: int, exact: bool = True) -> None:
        """Classify shell text; ``exact=False`` once any enclosing text was not well formed."""
        if depth > _MAX_DEPTH:
            self.add("nesting-too-deep", "blocked", text)
            return
        bomb = _FORK_BOMB.search(text)
        if bomb:
            self.add("fork-bomb", "blocked", bomb.group(0))
        for pattern in _DOWNLOAD_EXEC:
            match = pattern.search(text)
            if match:
                self.add("download-exec", "blocked", match.group(0).strip())
        for inner in substitutions(text):
            self.text(inner, depth + 1, exact)
        pipelines, well_formed = split_pipelines(text)
        for pipeline in pipelines:
            self.pipeline(pipeline, depth, exact and well_formed)

    def pipeline(self, commands: Sequence[SimpleCommand], depth: int, exact: bool = True) -> None:
        # Unwrapped argv of each command (``sudo bash`` is ``bash``) and its name.
        names = [self.unwrap(c.words)[0] for c in commands]
        heads = [_name(w[0]) if w else "" for w in names]
        for i, head in enumerate(heads):
            # Text that was not well formed may hide the download inside a
            # quoted script: then any word naming a downloader counts.
            hidden = not exact and any(_name(w) in _DOWNLOADERS for w in names[i])
            if head not in _DOWNLOADERS and not hidden:
                continue
            for j in range(i + 1, len(heads)):
                if heads[j] in _INTERPRETERS and _reads_stdin(heads[j], names[j][1:]):
                    shown = " | ".join(c.text for c in commands[i : j + 1])
                    self.add("download-pipe-shell", "blocked", shown)
        if any(h in _SQL_CLIENTS for h in heads):
            sql = " ".join(" ".join(c.words) for c in commands)
            self.reasons.extend(sql_reasons(sql))
        for command in commands:
            self.simple(command, depth, exact)

    # -- one simple command ---------------------------------------------------

    def unwrap(self, words: Sequence[str]) -> tuple[list[str], bool]:
        """Drop ``VAR=x`` prefixes and wrappers; return the real argv and whether it is privileged."""
        argv = list(words)
        privileged = False
        while argv:
            if _ASSIGNMENT.match(argv[0]):
                argv.pop(0)
                continue
            head = _name(argv[0])
            if head == "timeout":
                rest = argv[1:]
                while rest and rest[0].startswith("-"):
                    option = rest.pop(0)
                    if option in ("-s", "-k", "--signal", "--kill-after") and rest:
                        rest.pop(0)
                argv = rest[1:] if rest else []
                continue
            if head not in _WRAPPERS:
                break
            privileged = privileged or head in _PRIVILEGED
            takes_value = _WRAPPERS[head]
            argv.pop(0)
            while argv and (argv[0].startswith("-") or (head == "env" and "=" in argv[0])):
                option = argv.pop(0)
                if option == "--":
                    break
                if option in takes_value and argv:
                    argv.pop(0)
        return argv, privileged

    def simple(self, command: SimpleCommand, depth: int, exact: bool = True) -> None:
        for op, target in command.redirects:
            if ">" in op:
                self.write_target(target, command.text)
        argv, privileged = self.unwrap(command.words)
        if privileged:
            self.add("privileged", "moderate", command.text)
        if not argv:
            return
        self.argv(argv, depth, command.text, exact)

    def write_target(self, target: str, shown: str) -> None:
        if target in _PROTECTED_FILES or target.startswith("/etc/sudoers.d/"):
            self.add("system-file-write", "blocked", shown)
        elif _BLOCK_DEVICE.match(target) and not _SAFE_DEVICES.match(target):
            self.add("device-write", "dangerous", shown)

    def argv(self, argv: Sequence[str], depth: int, shown: str, exact: bool = True) -> None:
        if depth > _MAX_DEPTH:
            self.add("nesting-too-deep", "blocked", shown)
            return
        head = _name(argv[0])
        args = list(argv[1:])
        in_place = head not in ("sed", "perl") or any(a.startswith("-i") for a in args)
        if (
            head in _FILE_WRITERS
            and in_place
            and any(a in _PROTECTED_FILES or a.startswith("/etc/sudoers.d/") for a in args)
        ):
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
        self.nested(head, args, depth, exact)

    def nested(self, head: str, args: list[str], depth: int, exact: bool = True) -> None:
        """Classify commands that ``head`` itself runs."""
        if head in _SHELLS or head == "su":
            for i, arg in enumerate(args):
                if arg == "-c" or (
                    arg.startswith("-") and not arg.startswith("--") and arg.endswith("c")
                ):
                    if i + 1 < len(args):
                        # Text that was not well formed lost its quotes: the
                        # script may span the remaining words.
                        script = args[i + 1] if exact else " ".join(args[i + 1 :])
                        self.text(script, depth + 1, exact)
                    break
        elif head == "eval":
            self.text(" ".join(args), depth + 1, exact)
        elif head == "xargs":
            rest = list(args)
            while rest and rest[0].startswith("-"):
                option = rest.pop(0)
                if option in ("-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a") and rest:
                    rest.pop(0)
            if rest:
                self.argv(rest, depth + 1, " ".join(rest), exact)
        elif head == "find":
            for i, arg in enumerate(args):
                if arg in ("-exec", "-execdir", "-ok", "-okdir"):
                    inner = []
                    for word in args[i + 1 :]:
                        if word in (";", "+", "\\;"):
                            break
                        inner.append(word)
                    if inner:
                        self.argv(inner, depth + 1, " ".join(inner), exact)
        elif head == "ssh":
            rest = list(args)
            while rest and rest[0].startswith("-"):
                option = rest.pop(0)
                if (
                    option
                    in (
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
                    )
                    and rest
                ):
                    rest.pop(0)
            if len(rest) > 1:
                self.text(" ".join(rest[1:]), depth + 1, exact)
        elif head == "kubectl" and "exec" in args and "--" in args:
            inner = args[args.index("--") + 1 :]
            if inner:
                self.argv(inner, depth + 1, " ".join(inner), exact)


def _reads_stdin(interpreter: str, args: Sequence[str]) -> bool:
    """Whether ``interpreter args`` executes its standard input (``bash``, ``sh -s``, ``python -``)."""
    for arg in args:
        if arg in ("-s", "-", "--"):
            return True
        if arg == "-c" or arg in ("-m", "-e", "-r"):
            return False
        if not arg.startswith("-"):
            return False
    return True


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


def _is_root(target: str) -> bool:
    if target in _ROOT_TARGETS:
        return True
    return target.startswith("/") and posixpath.normpath(target) in ("/", "//")


def _is_broad(target: str) -> bool:
    if target in (".", "..", "./", "../", "*", "./*", "../*") or "*" in target:
        return True
    if target.startswith("$") or "${" in target:
        return True
    if target.startswith("/"):
        depth = len([p for p in posixpath.normpath(target).split("/") if p])
        return depth <= 1
    return target.startswith("~")


def _rm(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, long_options, targets = _options(args)
    recursive = bool(letters & {"r", "R"}) or "--recursive" in long_options
    force = "f" in letters or "--force" in long_options
    if "--no-preserve-root" in long_options or (recursive and any(_is_root(t) for t in targets)):
        c.add("rm-root", "blocked", shown)
    elif recursive and (force or any(_is_broad(t) for t in targets)):
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
            target = arg[3:]
            if target in _PROTECTED_FILES:
                c.add("system-file-write", "blocked", shown)
            elif target.startswith("/dev/") and not _SAFE_DEVICES.match(target):
                c.add("dd-device", "dangerous", shown)


def _chmod(c: _Classifier, args: list[str], depth: int, shown: str) -> None:
    letters, long_options, operands = _options(args)
    recursive = "R" in letters or "--recursive" in long_options
    mode = operands[0] if operands else ""
    world_writable = mode in ("777", "0777", "a+rwx", "ugo+rwx", "o+w", "a+w", "666", "0666")
    if world_writable and (recursive or any(_is_root(t) for t in operands[1:])):
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


def classify_command(command: str | Sequence[str]) -> Classification:
    """Classify a shell command (a string run by ``sh -c``, or an argv list).

    Returns the highest :data:`~osop.security.rules.LEVELS` level of every rule
    that matched, with the reasons (rule id + matched text).
    """
    classifier = _Classifier()
    if isinstance(command, str):
        classifier.text(command, 0)
    else:
        argv = [str(w) for w in command]
        if argv:
            classifier.simple(SimpleCommand(words=argv), 0)
    return Classification.of(classifier.reasons)
