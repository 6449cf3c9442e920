"""Named disclosure-control policies.

Sources (facts, not text): OpenSAFELY's output-checking guidance redacts any statistic based on
counts of 7 or fewer and, in its updated guidance, rounds every remaining count to the nearest
5 so that counts hidden in one table cannot be recovered from others; threshold suppression
with complementary suppression checked by an interval audit is the approach of tau-ARGUS and
R's sdcTable (see ``shared/DISCLOSURE.md`` of the project).
"""

from __future__ import annotations

from dataclasses import dataclass

from coaching_trials._errors import one_of

__all__ = ["POLICIES", "ReleasePolicy", "get_policy"]

#: The named policies (``report.policy`` in a config).
POLICIES = ("suppress", "round")


@dataclass(frozen=True)
class ReleasePolicy:
    """How counts are protected.

    Attributes
    ----------
    name : {"suppress", "round"}
        ``"suppress"``: a count below ``threshold`` (1 to threshold - 1 people) is hidden,
        with every statistic of that group, and further counts are hidden until no hidden
        count can be narrowed to fewer than ``threshold`` possible values, nor shown to be
        below ``threshold``, from everything published. ``"round"``: counts of
        ``redact_at_most`` or fewer (zero included) are hidden and every other count is rounded
        to the nearest ``rounding``; percentages are recomputed from the rounded counts and
        numbers that pin an exact count (residual df, exact intervals of proportions) are
        hidden.
    threshold : int
        Smallest group whose statistics may be shown.
    rounding : int
        Base of rounding (1 = counts exact).
    redact_at_most : int
        ``"round"`` only: the largest count that is hidden.
    min_possibilities : int
        How many values every hidden count must keep open, given all published numbers.
    hide_zeros : bool
        Whether a count of 0 is itself sensitive (a zero in a group of at least ``threshold``
        people describes nobody; in a smaller group every count goes with the group).
    """

    name: str
    threshold: int
    rounding: int = 1
    redact_at_most: int = 0
    min_possibilities: int = 1
    hide_zeros: bool = False

    def is_sensitive(self, value: int) -> bool:
        if self.name == "round":
            return value <= self.redact_at_most
        return value < self.threshold and (value > 0 or self.hide_zeros)

    def shown(self, value: int) -> int:
        """The printed value of a count that is not hidden."""
        if self.rounding <= 1:
            return int(value)
        return int(self.rounding * int((value + self.rounding / 2) // self.rounding))

    def known_interval(self, value: int) -> tuple[float, float]:
        """What a reader knows of a published count from its printed value."""
        if self.rounding <= 1:
            return float(value), float(value)
        shown = self.shown(value)
        half = (self.rounding - 1) // 2
        return float(max(shown - half, 0)), float(shown + self.rounding - 1 - half)

    def describe(self) -> str:
        if self.name == "round":
            return (
                f"counts of {self.redact_at_most} or fewer hidden, other counts rounded to the "
                f"nearest {self.rounding}"
            )
        return (
            f"counts below {self.threshold} hidden, with their statistics and the counts that "
            "would reveal them"
        )


def get_policy(policy: str | ReleasePolicy = "suppress", *, min_cell: int = 5) -> ReleasePolicy:
    """A :class:`ReleasePolicy` by name.

    ``"suppress"`` uses ``min_cell`` as its threshold; ``"round"`` is OpenSAFELY's rule
    (redact 7 or fewer, round to the nearest 5), with ``min_cell`` ignored unless larger than 8.

    Examples
    --------
    >>> get_policy("suppress", min_cell=5).threshold
    5
    >>> p = get_policy("round")
    >>> p.redact_at_most, p.rounding, p.shown(12), p.shown(13)
    (7, 5, 10, 15)
    """
    if isinstance(policy, ReleasePolicy):
        return policy
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise ValueError(f"`min_cell` must be a positive integer; got {min_cell!r}.")
    if policy == "suppress":
        return ReleasePolicy(
            "suppress", threshold=min_cell, min_possibilities=min_cell, hide_zeros=False
        )
    if policy == "round":
        redact = max(7, min_cell - 1)
        return ReleasePolicy(
            "round",
            threshold=redact + 1,
            rounding=5,
            redact_at_most=redact,
            min_possibilities=5,
            hide_zeros=True,
        )
    raise one_of("policy", policy, POLICIES)
