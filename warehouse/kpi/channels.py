"""Which channels are assisted service and which are self-service (``config/kpi.yaml``).

A customer on an assisted channel queues and is served by a person, or leaves: the counter,
and equally the telephone queue answered by agents. Waits, handling times, the service
level, abandonment, satisfaction and Erlang C staffing only mean something there. A
self-service channel has no queue and no server; it is what ``self_service_share`` counts.

The sets live in configuration, once, and are read here, once; every KPI that depends on
them asks this module. They are applied when a KPI is *queried* (the relations and marts
keep every channel's rows with channel as a key), so changing the configuration changes
the KPIs at once and can never leave a mart built under the old sets behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import ibis.expr.types as ir

from warehouse.settings import load_config


@dataclass(frozen=True)
class ChannelSets:
    """The assisted and self-service channels, and the version of that choice.

    ``version`` changes whenever a list changes (config/kpi.yaml), because every wait,
    handling, abandonment and share KPI changes meaning with it.
    """

    version: str
    assisted: tuple[str, ...]
    self_service: tuple[str, ...]


def _names(value: object, key: str) -> tuple[str, ...]:
    """A list of channel codes from the configuration, refused when it is anything else."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"config/kpi.yaml channels.{key} must be a list of channel codes")
    if len(set(value)) != len(value):
        raise ValueError(f"config/kpi.yaml channels.{key} names a channel twice")
    return tuple(value)


@cache
def channel_sets() -> ChannelSets:
    """Parse and check ``channels`` of config/kpi.yaml once per process.

    A channel in both lists, or no assisted channel at all, is a configuration error
    raised here rather than a silently double-counted or empty KPI later.
    """
    cfg = load_config("kpi")["channels"]
    assisted = _names(cfg.get("assisted"), "assisted")
    self_service = _names(cfg.get("self_service"), "self_service")
    if not assisted:
        raise ValueError("config/kpi.yaml channels.assisted must name at least one channel")
    both = sorted(set(assisted) & set(self_service))
    if both:
        raise ValueError(f"config/kpi.yaml: {both} cannot be both assisted and self-service")
    version = cfg.get("version")
    if not isinstance(version, str) or not version:
        raise ValueError("config/kpi.yaml channels.version must be a non-empty string")
    return ChannelSets(version, assisted, self_service)


def assisted_channels() -> tuple[str, ...]:
    """Channels served by a person from a queue, in configuration order (counter first)."""
    return channel_sets().assisted


def self_service_channels() -> tuple[str, ...]:
    """Channels where customers serve themselves."""
    return channel_sets().self_service


def check_assisted(channel: str) -> str:
    """Accept an assisted channel; refuse a self-service or unknown one by name.

    A staffing plan for the ATM would be Erlang C of a queue nobody serves.
    """
    if channel not in assisted_channels():
        raise ValueError(
            f"{channel!r} is not an assisted channel; assisted: {list(assisted_channels())}"
            " (config/kpi.yaml channels.assisted)"
        )
    return channel


def is_assisted(channel: ir.StringValue) -> ir.BooleanValue:
    """The ibis condition "this row's channel is assisted" (NULL channel: not assisted)."""
    return channel.isin(assisted_channels()).fill_null(False)


def is_self_service(channel: ir.StringValue) -> ir.BooleanValue:
    """The ibis condition "this row's channel is self-service"."""
    return channel.isin(self_service_channels()).fill_null(False)
