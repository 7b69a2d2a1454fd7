"""The one price table: USD per token for each model, dated, overridable by a file.

The table shipped with the package is ``prices.json`` beside this module (USD per
million tokens, with the date the prices were read and where from).  A file named
by ``$OSOP_PRICES_FILE`` or ``$OSOP_PRICES`` (or passed as ``path``; JSON, or YAML
by its ``.yaml``/``.yml`` suffix) is read on top of it: its ``models``
entries replace or add to the shipped ones, so a team can pin its own contract
prices or add a model released after this table.

Model names are matched exactly first, then by the longest table key the name
starts with, so dated names (``claude-sonnet-4-5-20250929``) and provider
prefixes (``anthropic/claude-…``, ``openai/gpt-5``) find their family.  An unknown
model has no price: :func:`cost` returns ``None`` rather than guessing.

Four token kinds are priced separately: ``input`` (uncached prompt tokens),
``output``, ``cache_write`` (prompt tokens written to the cache) and
``cache_read`` (prompt tokens read from it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from osop.errors import OsopError

__all__ = [
    "ENV_PRICES",
    "ENV_PRICES_FILE",
    "ModelPrice",
    "Price",
    "PriceTable",
    "cost",
    "cost_usd",
    "load_table",
    "lookup",
    "price_for",
]

#: Environment variables naming a price file read on top of the shipped table
#: (``OSOP_PRICES_FILE`` wins when both are set).
ENV_PRICES_FILE: Final = "OSOP_PRICES_FILE"
ENV_PRICES: Final = "OSOP_PRICES"

_SHIPPED: Final = Path(__file__).with_name("prices.json")
_PER_MILLION: Final = 1_000_000.0
_KINDS: Final = ("input", "output", "cache_write", "cache_read")


@dataclass(frozen=True, slots=True)
class Price:
    """Prices of one model in USD per token."""

    model: str
    input: float
    output: float
    cache_write: float
    cache_read: float
    provider: str | None
    as_of: str | None
    source: str

    def cost(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_creation_tokens: int = 0,
        cache_read_tokens: int = 0,
    ) -> float:
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_creation_tokens * self.cache_write
            + cache_read_tokens * self.cache_read
        )


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]
    as_of: str | None
    _found: dict[str, Price | None] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, model: str | None) -> Price | None:
        if not model:
            return None
        if model in self._found:
            return self._found[model]
        found = self._search(model)
        self._found[model] = found
        return found

    def _search(self, model: str) -> Price | None:
        name = model.strip().lower()
        if "/" in name:  # provider/model
            name = name.rsplit("/", 1)[1]
        exact = self.prices.get(name)
        if exact is not None:
            return exact
        best: Price | None = None
        best_len = -1
        for key, price in self.prices.items():
            if name.startswith(key) and len(key) > best_len and _boundary(name, len(key)):
                best, best_len = price, len(key)
        return best


def _boundary(name: str, at: int) -> bool:
    """``gpt-5`` matches ``gpt-5-2025-08-07`` but not ``gpt-50``."""
    return at == len(name) or not name[at].isalnum() or not name[at - 1].isalnum()


def _read(path: Path, source: str) -> tuple[dict[str, Price], str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OsopError(f"cannot read the price file {path}: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise OsopError(f"{path}: the price file is not YAML: {exc}") from exc
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OsopError(f"{path}: the price file is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise OsopError(f"{path}: a price file is an object with a `models` object")
    as_of = data.get("as_of") if isinstance(data.get("as_of"), str) else None
    out: dict[str, Price] = {}
    for name, entry in data["models"].items():
        out[str(name).lower()] = _price(path, str(name), entry, as_of, source)
    return out, as_of


def _price(path: Path, name: str, entry: Any, as_of: str | None, source: str) -> Price:
    if not isinstance(entry, dict):
        raise OsopError(f"{path}: /models/{name}: expected an object of prices")
    values: dict[str, float] = {}
    for kind in _KINDS:
        value = entry.get(kind, entry.get("input") if kind == "cache_write" else None)
        if kind == "cache_read" and value is None:
            value = entry.get("input")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise OsopError(
                f"{path}: /models/{name}/{kind}: expected a price (USD per million tokens)"
            )
        values[kind] = float(value) / _PER_MILLION
    provider = entry.get("provider")
    return Price(
        model=name.lower(),
        provider=provider if isinstance(provider, str) else None,
        as_of=entry.get("as_of") if isinstance(entry.get("as_of"), str) else as_of,
        source=source,
        **values,
    )


@lru_cache(maxsize=8)
def _load(path: str | None) -> PriceTable:
    prices, as_of = _read(_SHIPPED, "shipped")
    if path:
        extra, extra_as_of = _read(Path(path).expanduser(), path)
        prices.update(extra)
        as_of = extra_as_of or as_of
    return PriceTable(prices, as_of)


def load_table(path: str | Path | None = None) -> PriceTable:
    """The shipped table with ``path`` (default ``$OSOP_PRICES_FILE``/``$OSOP_PRICES``) on top."""
    env = os.environ.get(ENV_PRICES_FILE) or os.environ.get(ENV_PRICES)
    chosen = str(path) if path is not None else env or None
    return _load(chosen)


def lookup(model: str | None, *, path: str | Path | None = None) -> Price | None:
    """Per-token prices of ``model``, or ``None`` when the table does not know it."""
    return load_table(path).lookup(model)


def cost(
    model: str | None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_creation_tokens: int = 0,
    cache_read_tokens: int = 0,
    *,
    path: str | Path | None = None,
) -> float | None:
    """USD for the given tokens of ``model``; ``None`` when its price is unknown."""
    price = lookup(model, path=path)
    if price is None:
        return None
    return price.cost(input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens)


#: The name agent nodes use for a model's prices (one class, two names).
ModelPrice = Price


def price_for(model: str) -> Price | None:
    """Prices of ``model`` (``None`` when unknown); :func:`lookup` without a path."""
    return lookup(model)


def cost_usd(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_creation_tokens: int = 0,
    cache_read_tokens: int = 0,
) -> float | None:
    """USD for these tokens of ``model``, rounded to 1e-8; ``None`` when its price is unknown."""
    value = cost(model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens)
    return None if value is None else round(value, 8)
