"""The risk levels, the documented rule table and the result of a classification.

Every rule a classifier can report is listed in :data:`RULES` with its level and
a one-line description, so the documentation and the tests read the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "LEVELS",
    "RULES",
    "Classification",
    "Level",
    "Reason",
    "Rule",
    "highest",
]

Level = Literal["safe", "moderate", "dangerous", "blocked"]

#: Levels in increasing order of risk (the highest level found wins).
LEVELS: Final[tuple[Level, ...]] = ("safe", "moderate", "dangerous", "blocked")
_RANK: Final = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: Level
    description: str


def _table(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


#: The rule table (shell commands and SQL). ``docs/security.md`` mirrors it.
RULES: Final[dict[str, Rule]] = _table(
    # blocked: refused whatever anybody approves
    Rule("download-pipe-shell", "blocked", "a download piped into a shell or interpreter"),
    Rule("download-exec", "blocked", "a download executed via <(...) or $(...)"),
    Rule("fork-bomb", "blocked", "a self-replicating function (fork bomb)"),
    Rule("rm-root", "blocked", "recursive delete of /, ~ or $HOME, or --no-preserve-root"),
    Rule("system-file-write", "blocked", "writes to /etc/passwd, shadow, group or sudoers"),
    Rule("sql-shell-escape", "blocked", "SQL that runs programs or writes server files"),
    Rule("nesting-too-deep", "blocked", "commands nested more than 8 levels deep"),
    # dangerous: need a human approval
    Rule(
        "shell-unresolved",
        "dangerous",
        "what runs is only known at run time (a variable or glob as the command, eval or "
        "sh -c of a variable, text piped into a shell) or the text does not parse",
    ),
    Rule("decode-exec", "dangerous", "decoded text (base64 -d, xxd -r ...) piped into a shell"),
    Rule("rm-recursive", "dangerous", "rm -rf / rm -fr, or rm -r on a broad target"),
    Rule("find-delete", "dangerous", "find ... -delete"),
    Rule("delete-outside-workdir", "dangerous", "a system node deleting outside the workdir"),
    Rule(
        "write-outside-workdir",
        "dangerous",
        "a system node writing, copying, moving or creating outside the workdir",
    ),
    Rule("shred", "dangerous", "shred destroys file contents"),
    Rule("disk-format", "dangerous", "mkfs*, fdisk, parted, wipefs"),
    Rule("dd-device", "dangerous", "dd writing to a device (of=/dev/...)"),
    Rule("device-write", "dangerous", "redirection into a block device (> /dev/sd*)"),
    Rule("chmod-777-recursive", "dangerous", "chmod -R 777 (world-writable tree)"),
    Rule("power", "dangerous", "shutdown, reboot, halt, poweroff, init 0/6"),
    Rule("kill-all", "dangerous", "kill -1 / killall5 (every process)"),
    Rule("crontab-remove", "dangerous", "crontab -r removes every scheduled job"),
    Rule("firewall-flush", "dangerous", "iptables/nft flush"),
    Rule("git-force-push", "dangerous", "git push --force / -f / +refspec"),
    Rule("git-push-delete", "dangerous", "git push --delete / :branch"),
    Rule("git-reset-hard", "dangerous", "git reset --hard"),
    Rule("git-clean-force", "dangerous", "git clean -f"),
    Rule("git-history-rewrite", "dangerous", "git filter-branch / filter-repo"),
    Rule("kubectl-delete", "dangerous", "kubectl delete / drain"),
    Rule("helm-uninstall", "dangerous", "helm uninstall / delete"),
    Rule("infra-destroy", "dangerous", "terraform/tofu/pulumi destroy, apply -destroy"),
    Rule("docker-prune", "dangerous", "docker system/volume/image prune, volume rm, down -v"),
    Rule("cloud-delete", "dangerous", "aws/gcloud/az delete, terminate, s3 rb, rm --recursive"),
    Rule("sql-drop", "dangerous", "DROP TABLE / DATABASE / SCHEMA"),
    Rule("sql-truncate", "dangerous", "TRUNCATE"),
    Rule(
        "sql-delete-all",
        "dangerous",
        "DELETE without WHERE, or with a WHERE true of every row (1=1, 2>1, x OR TRUE)",
    ),
    Rule("sql-update-all", "dangerous", "UPDATE ... SET without WHERE, or with such a WHERE"),
    Rule("sql-drop-column", "dangerous", "ALTER TABLE ... DROP"),
    # moderate: logged, then run
    Rule("package-install", "moderate", "package manager installs/removes packages"),
    Rule("container-change", "moderate", "docker build/push/run/rm and the like"),
    Rule("git-push", "moderate", "git push (not forced)"),
    Rule("git-write", "moderate", "git commands that change the repository"),
    Rule("network", "moderate", "network transfers (curl, wget, ssh, scp, git clone ...)"),
    Rule("file-delete", "moderate", "rm / rmdir of specific paths"),
    Rule("permission-change", "moderate", "chmod / chown"),
    Rule("privileged", "moderate", "runs with elevated privileges (sudo, doas, su)"),
    Rule("infra-change", "moderate", "kubectl apply, helm install, terraform apply ..."),
    Rule("cloud-cli", "moderate", "aws / gcloud / az calls"),
    Rule("service-control", "moderate", "systemctl/service start, stop, restart"),
    Rule("kill-process", "moderate", "kill / pkill / killall"),
    Rule("sql-write", "moderate", "INSERT, UPDATE/DELETE with WHERE, DDL, GRANT ..."),
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that matched, with the text it matched."""

    rule: str
    level: Level
    matched: str

    @property
    def description(self) -> str:
        rule = RULES.get(self.rule)
        return rule.description if rule else self.rule

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "level": self.level, "matched": self.matched}

    def __str__(self) -> str:
        return f"{self.rule} ({self.description}): {self.matched}"


def highest(levels: Iterable[Level]) -> Level:
    """The riskiest of ``levels`` (``safe`` when there are none)."""
    best: Level = "safe"
    for level in levels:
        if _RANK[level] > _RANK[best]:
            best = level
    return best


@dataclass(frozen=True, slots=True)
class Classification:
    """How risky a command is and why (the highest matching rule wins)."""

    level: Level
    reasons: tuple[Reason, ...] = ()

    @classmethod
    def of(cls, reasons: Iterable[Reason]) -> Classification:
        unique = tuple(dict.fromkeys(reasons))
        ordered = tuple(sorted(unique, key=lambda r: -_RANK[r.level]))
        return cls(highest(r.level for r in ordered), ordered)

    @property
    def is_blocked(self) -> bool:
        return self.level == "blocked"

    @property
    def needs_approval(self) -> bool:
        return self.level == "dangerous"

    def at_least(self, level: Level) -> bool:
        return _RANK[self.level] >= _RANK[level]

    def summary(self) -> str:
        """``dangerous: rm-recursive (...): rm -rf build`` — the top reasons, for messages."""
        top = [str(r) for r in self.reasons if r.level == self.level]
        return f"{self.level}: " + "; ".join(top) if top else self.level

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "reasons": [r.to_dict() for r in self.reasons]}
