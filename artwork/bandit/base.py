"""The :class:`ArtworkPolicy` interface and its snapshot envelope.

A policy turns features into a probability for every action (exploration included), learns from
one logged decision and its reward, and saves itself as bytes. Snapshots are self-describing: a
short header names the policy, its version and configuration, so
:func:`artwork.bandit.registry.load_policy` can bring back any registered policy from the bytes
alone.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from artwork.bandit.features import FeatureSpace
from artwork.config import Settings
from artwork.domain import Decision
from artwork.errors import ModelError

PolicyConfig = dict[str, str | float]

_MAGIC = b"ARTWORK-POLICY/1\n"


class ArtworkPolicy(ABC):
    """Chooses among a title's variants: a distribution over actions, updated from rewards.

    Implementations guard their own state: ``pmf`` and ``learn`` may be called from different
    threads.
    """

    name: ClassVar[str]
    """Registry key, recorded with every decision and snapshot."""

    @property
    @abstractmethod
    def version(self) -> int:
        """Model version: 0 when fresh, one more after every ``learn``."""

    @abstractmethod
    def config(self) -> PolicyConfig:
        """What defines this policy's behaviour (name, exploration, hyper-parameters).

        Recorded on every decision, so off-policy evaluation knows what logged it.
        """

    @abstractmethod
    def pmf(
        self,
        shared: FeatureSpace,
        actions: Sequence[FeatureSpace],
        keys: Sequence[str] | None = None,
    ) -> list[float]:
        """The probability of showing each action.

        Args:
            shared: Features of the request (member, context).
            actions: Features of each action, in action order (at least one).
            keys: Optional stable id of each action (the variant id). An implementation may
                cache per-action work under it, checking the features still match.

        Returns:
            One probability per action, in action order, summing to 1.
        """

    def pmf_many(
        self,
        shared: FeatureSpace,
        titles: Sequence[tuple[Sequence[FeatureSpace], Sequence[str] | None]],
    ) -> list[list[float]]:
        """:meth:`pmf` for several titles of one request (a page), in title order.

        Args:
            shared: Features of the request.
            titles: Per title, its actions' features and (optionally) their keys.

        The default asks :meth:`pmf` title by title; a policy may answer the whole page at
        once, as long as every answer equals what :meth:`pmf` would give.
        """
        return [self.pmf(shared, actions, keys) for actions, keys in titles]

    @abstractmethod
    def learn(self, decision: Decision, reward: float) -> None:
        """Learn from one logged decision and the reward its shown action earned.

        Args:
            decision: The decision as logged (features, probabilities, chosen index).
            reward: Finite reward; higher is better.
        """

    def learn_many(self, events: Iterable[tuple[Decision, float]]) -> int:
        """Learn from logged decisions and their rewards, in the order given.

        Args:
            events: ``(decision, reward)`` pairs.

        Returns:
            How many events were learned.
        """
        count = 0
        for decision, reward in events:
            self.learn(decision, reward)
            count += 1
        return count

    def inherit_cache(self, other: ArtworkPolicy) -> None:  # noqa: B027 (optional hook)
        """Take over whatever per-action work ``other`` cached that is valid here too.

        Called when serving swaps ``other`` for this policy; the default does nothing.
        """

    @abstractmethod
    def snapshot(self) -> bytes:
        """The whole policy as bytes (:meth:`from_snapshot`, ``registry.load_policy``)."""

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings, *, version: int = 0) -> Self:
        """A fresh, untrained policy configured from ``settings``.

        Args:
            settings: The configuration.
            version: The version to start counting from (a rebuilt model continues the
                version numbers of the one it replaces).
        """

    @classmethod
    @abstractmethod
    def from_snapshot(cls, data: bytes, settings: Settings | None = None) -> Self:
        """Bring back a policy saved with :meth:`snapshot`.

        Args:
            data: Bytes from :meth:`snapshot`.
            settings: When given, settings that can change without retraining (such as the
                exploration rate) are taken from here instead of from the snapshot.

        Raises:
            ModelError: ``data`` is not a snapshot of this policy.
        """

    @classmethod
    def rebuild_reason(cls, header: SnapshotHeader, settings: Settings) -> str | None:
        """Why a snapshot cannot go on learning under ``settings``, or None if it can.

        A snapshot of another policy, or one whose structure (hash bits, number of bootstrapped
        models, ...) differs from what ``settings`` ask for, must be retrained from the log
        (``artwork learn --rebuild``); settings that can change in place never need that.

        Args:
            header: The snapshot's header.
            settings: The configured settings (``cls`` is the policy they select).
        """
        if header.name != cls.name:
            return f"the snapshot is of policy {header.name!r}, the settings select {cls.name!r}"
        return None


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """What a snapshot says about itself."""

    name: str
    version: int
    config: PolicyConfig


def pack_snapshot(header: SnapshotHeader, payload: bytes) -> bytes:
    """Wrap a policy's own bytes in the self-describing snapshot envelope.

    Args:
        header: Policy name, version and configuration.
        payload: The policy's model bytes.

    Returns:
        Magic line, one line of JSON header, then ``payload``.
    """
    meta = {"name": header.name, "version": header.version, "config": header.config}
    return _MAGIC + json.dumps(meta, sort_keys=True).encode() + b"\n" + payload


def unpack_snapshot(data: bytes) -> tuple[SnapshotHeader, bytes]:
    """Split a snapshot into its header and the policy's own bytes.

    Args:
        data: Bytes from :func:`pack_snapshot`.

    Raises:
        ModelError: ``data`` is not an artwork policy snapshot.
    """
    if not data.startswith(_MAGIC):
        raise ModelError("not an artwork policy snapshot (bad magic); was it written by artwork?")
    end = data.find(b"\n", len(_MAGIC))
    try:
        meta: Any = json.loads(data[len(_MAGIC) : end]) if end >= 0 else None
        header = SnapshotHeader(
            name=str(meta["name"]), version=int(meta["version"]), config=dict(meta["config"])
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"policy snapshot has an unreadable header: {exc}") from exc
    return header, data[end + 1 :]
