"""The price table: what a model's tokens cost, per model, dated.

One table for the whole toolkit — agent nodes, imported agent sessions and
stats read it.  It ships as ``osop/llm/data/prices.json`` (``as_of`` says on
which day the vendors' list prices were copied; prices are USD per million
tokens).  ``OSOP_PRICES_FILE`` names a JSON or YAML file of the same shape
whose ``models`` are laid over the shipped ones (add a model, correct a price,
price a local model at 0).

A model is found by its exact name, else by the longest known name it starts
with, so ``claude-sonnet-4-20250514`` is priced as ``claude-sonnet-4`` and
``gpt-4o-mini-2024-07-18`` as ``gpt-4o-mini``.  A vendor prefix
(``anthropic/``, ``models/``) is ignored.  An unknown model has no price: the
cost is ``None`` (unknown), never a guess.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from osop.errors import OsopError

__all__ = ["ModelPrice", "PriceTable", "cost_usd", "price_for", "price_table"]

_PER_TOKEN = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens; cache prices default to the input price when unknown."""

    model: str
    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None
    as_of: str | None = None

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_creation_tokens: int = 0,
        cache_read_tokens: int = 0,
    ) -> float:
        write = self.cache_write if self.cache_write is not None else self.input
        read = self.cache_read if self.cache_read is not None else self.input
        total = (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_creation_tokens * write
            + cache_read_tokens * read
        )
        return round(total / _PER_TOKEN, 8)


@dataclass(frozen=True, slots=True)
class PriceTable:
    as_of: str | None
    models: dict[str, ModelPrice]

    def price_for(self, model: str) -> ModelPrice | None:
        name = model.strip().lower()
        if "/" in name:
            name = name.rsplit("/", 1)[1]
        if name in self.models:
            return self.models[name]
        best = max((k for k in self.models if name.startswith(k)), key=len, default=None)
        return self.models[best] if best is not None else None


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise OsopError(f"{where}: a price must be a non-negative number, not {value!r}")
    return float(value)


def _parse(data: Any, where: str, as_of: str | None = None) -> PriceTable:
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise OsopError(f"{where}: a price table is a mapping with a `models` mapping")
    stamp = str(data.get("as_of")) if data.get("as_of") is not None else as_of
    models: dict[str, ModelPrice] = {}
    for name, raw in data["models"].items():
        if not isinstance(raw, dict):
            raise OsopError(f"{where}: models.{name} must be a mapping")
        at = f"{where}: models.{name}"
        input_price, output_price = _number(raw.get("input"), at), _number(raw.get("output"), at)
        if input_price is None or output_price is None:
            raise OsopError(f"{at}: needs `input` and `output` (USD per million tokens)")
        models[str(name).lower()] = ModelPrice(
            model=str(name),
            input=input_price,
            output=output_price,
            cache_write=_number(raw.get("cache_write"), at),
            cache_read=_number(raw.get("cache_read"), at),
            as_of=str(raw["as_of"]) if raw.get("as_of") else stamp,
        )
    return PriceTable(as_of=stamp, models=models)


def _shipped() -> PriceTable:
    text = resources.files("osop.llm").joinpath("data/prices.json").read_text(encoding="utf-8")
    return _parse(json.loads(text), "osop/llm/data/prices.json")


@lru_cache(maxsize=8)
def _table(override: str | None) -> PriceTable:
    table = _shipped()
    if not override:
        return table
    path = Path(override)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OsopError(f"OSOP_PRICES_FILE {override}: cannot read it ({exc.strerror})") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise OsopError(f"OSOP_PRICES_FILE {override}: not YAML ({exc})") from exc
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OsopError(f"OSOP_PRICES_FILE {override}: not JSON ({exc})") from exc
    extra = _parse(data, override)
    return PriceTable(as_of=extra.as_of or table.as_of, models={**table.models, **extra.models})


def price_table() -> PriceTable:
    """The shipped table with ``OSOP_PRICES_FILE`` laid over it."""
    return _table(os.environ.get("OSOP_PRICES_FILE") or None)


def price_for(model: str) -> ModelPrice | None:
    return price_table().price_for(model)


def cost_usd(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_creation_tokens: int = 0,
    cache_read_tokens: int = 0,
) -> float | None:
    """USD for these tokens of ``model``; None when the model has no price."""
    price = price_for(model)
    if price is None:
        return None
    return price.cost(input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens)
