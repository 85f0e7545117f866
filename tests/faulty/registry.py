"""Every faulty and latitude variant, by name, and the factories the harness loads.

`--reference-factory tests.faulty.registry:<name>` builds variant <name>.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from tests.faulty import variants as _variants_package
from tests.faulty.latitude import LATITUDES, Latitude
from tests.faulty.variant import Variant


def _modules():
    for module_info in sorted(pkgutil.iter_modules(_variants_package.__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{_variants_package.__name__}.{module_info.name}")


@cache
def not_mutation_tested() -> dict[str, str]:
    """Requirements no variant trips, each with the reason, from every
    variants module's `NOT_MUTATION_TESTED` (a last resort, never a way out)."""
    listed: dict[str, str] = {}
    for module in _modules():
        listed.update(getattr(module, "NOT_MUTATION_TESTED", {}))
    return listed


@cache
def all_variants() -> dict[str, Variant]:
    found: dict[str, Variant] = {}
    for module in _modules():
        for variant in getattr(module, "VARIANTS", []):
            if variant.name in found:
                raise ValueError(f"two variants are named {variant.name}")
            found[variant.name] = variant
    return found


@cache
def latitude_variants() -> dict[str, Latitude]:
    found = {latitude.name: latitude for latitude in LATITUDES}
    if len(found) != len(LATITUDES) or set(found) & set(all_variants()):
        raise ValueError("latitude and faulty variant names must all differ")
    return found


def __getattr__(name: str):
    variant = all_variants().get(name) or latitude_variants().get(name)
    if variant is None:
        raise AttributeError(name)
    return variant.factory
