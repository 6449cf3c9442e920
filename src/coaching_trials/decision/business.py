"""The business case: turnover avoided by lowering burnout, in the published turnover-cost form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coaching_trials._results import ResultMixin, format_table
from coaching_trials.analysis._common import (
    check_conf_level,
    critical_value,
    normal_interval,
)
from coaching_trials.decision._common import as_effects, check_number, read_data_toml

__all__ = ["BusinessCaseResult", "business_case", "business_sources"]

SOURCED_INPUTS = ("burnout_prevalence", "turnover_rate", "turnover_rr", "replacement_cost")
OUTPUTS = (
    ("turnover_avoided", "physicians"),
    ("savings", "dollars"),
    ("program_cost", "dollars"),
    ("net_benefit", "dollars"),
    ("roi", "ratio (net benefit / program cost)"),
    ("break_even_cost", "dollars per participant"),
    ("attributable_turnover", "annual proportion"),
)
ASSUMPTION_COLUMNS = (
    "input",
    "value",
    "low",
    "high",
    "distribution",
    "unit",
    "source",
    "location",
    "verified",
)


def business_sources() -> pd.DataFrame:
    """Every number the business case knows, with its source and whether it was verified.

    Returns
    -------
    pandas.DataFrame
        ``kind`` (``"default"``, ``"alternative"``), ``input, value, low, high, unit,
        citation, location, verified, verified_against, note``. Only verified defaults are
        used by :func:`business_case`; the worked example used in the tests is under
        ``decision/data/business_sources.toml``.

    Examples
    --------
    >>> from coaching_trials.decision import business_sources
    >>> tab = business_sources()
    >>> tab.loc[tab["kind"] == "default", "input"].tolist()
    ['burnout_prevalence', 'turnover_rate', 'turnover_rr', 'replacement_cost']
    """
    spec = read_data_toml("business_sources.toml")
    rows = []
    for kind, section in (("default", "inputs"), ("alternative", "alternatives")):
        for name, e in spec[section].items():
            rows.append(
                {
                    "kind": kind if kind == "alternative" or e.get("default") else "alternative",
                    "input": name,
                    "value": float(e["value"]),
                    "low": float(e.get("low", np.nan)),
                    "high": float(e.get("high", np.nan)),
                    "unit": e.get("unit", ""),
                    "citation": e["citation"],
                    "location": e.get("location", ""),
                    "verified": bool(e["verified"]),
                    "verified_against": e.get("verified_against", ""),
                    "note": e.get("note", ""),
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Input:
    name: str
    value: float
    low: float
    high: float
    distribution: str  # "fixed" | "uniform" | "lognormal" | "normal"
    unit: str
    source: str
    location: str
    verified: bool

    @property
    def uncertain(self) -> bool:
        return self.distribution != "fixed" and self.high > self.low

    def draw(self, rng: np.random.Generator, n: int, z: float) -> np.ndarray:
        if not self.uncertain:
            return np.full(n, self.value)
        if self.distribution == "uniform":
            return rng.uniform(self.low, self.high, n)
        if self.distribution == "lognormal":
            sd = (np.log(self.high) - np.log(self.low)) / (2 * z)
            return np.exp(rng.normal(np.log(self.value), sd, n))
        sd = (self.high - self.low) / (2 * z)
        return rng.normal(self.value, sd, n)


def _sourced(name: str, given: Any, defaults: dict[str, Any], bounds: dict[str, Any]) -> _Input:
    entry = defaults.get(name)
    usable_default = entry is not None and entry.get("default") and entry.get("verified")
    if given is None:
        if not usable_default:
            raise ValueError(f"`{name}` has no verified default; give it explicitly.")
        value, low = float(entry["value"]), float(entry.get("low", entry["value"]))
        high = float(entry.get("high", entry["value"]))
        dist = entry["distribution"] if "low" in entry else "fixed"
        return _Input(
            name,
            value,
            low,
            high,
            dist,
            entry.get("unit", ""),
            entry["citation"],
            entry.get("location", ""),
            True,
        )
    dist = (entry or {}).get("distribution", "uniform")
    unit = (entry or {}).get("unit", "")
    if isinstance(given, Mapping):  # a value with its range and source, e.g. from the trial
        value, low, high = (
            check_number(name, given[k], **bounds) for k in ("value", "low", "high")
        )
        if not low <= value <= high:
            raise ValueError(f"`{name}` must satisfy low <= value <= high; got {given!r}.")
        source = str(given.get("source", "given"))
        return _Input(name, value, low, high, dist, unit, source, "", False)
    if isinstance(given, Sequence) and not isinstance(given, str):
        if len(given) != 3:
            raise ValueError(f"`{name}` must be a number or (value, low, high); got {given!r}.")
        value, low, high = (check_number(name, g, **bounds) for g in given)
        if not low <= value <= high:
            raise ValueError(f"`{name}` must satisfy low <= value <= high; got {given!r}.")
        return _Input(name, value, low, high, dist, unit, "given", "", False)
    value = check_number(name, given, **bounds)
    return _Input(name, value, value, value, "fixed", unit, "given", "", False)


def _effect(effect: Any, effect_se: Any, conf_level: float) -> _Input:
    """The trial's effect on burnout prevalence (risk difference, coaching - control)."""
    if isinstance(effect, (int, float, np.floating, np.integer)) and not isinstance(effect, bool):
        value = check_number("effect", effect, low=-1, high=1)
        se = 0.0 if effect_se is None else check_number("effect_se", effect_se, low=0)
        source = "given"
    else:
        if effect_se is not None:
            raise ValueError("`effect_se` is only for a numeric `effect`; a table carries its own.")
        if getattr(effect, "event_is", "bad") != "bad":
            raise ValueError(
                f"`effect` counts {getattr(effect, 'event', 'an event')!r}, which is a good "
                "outcome; the business case needs the risk difference in burnout prevalence "
                "(responders with event_is='bad', e.g. pfi_burnout >= 1.33)."
            )
        frame = as_effects(effect, name="effect")
        if len(frame) > 1 and "analysis" in frame.columns:
            frame = frame[frame["analysis"] == "risk_difference"]
        if len(frame) != 1:
            raise ValueError(
                "`effect` must hold exactly one risk-difference row (analysis == "
                f"'risk_difference'); found {len(frame)}."
            )
        rec = frame.iloc[0]
        value = check_number("effect estimate", rec["estimate"], low=-1, high=1)
        se = check_number("effect std_error", rec["std_error"], low=0)
        source = f"trial: {rec.get('outcome')} {rec.get('analysis')} ({rec.get('estimand')})"
    dist = "normal" if se > 0 else "fixed"
    low, high = normal_interval(value, se, conf_level)
    return _Input(
        "effect",
        value,
        float(low),
        float(high),
        dist,
        "risk difference in burnout prevalence, coaching - control",
        source,
        "",
        False,
    )


def _model(
    effect: Any,
    prevalence: Any,
    turnover: Any,
    rr: Any,
    cost: Any,
    *,
    n: float,
    cost_per_participant: float,
    years: float,
) -> dict[str, Any]:
    """The turnover-cost model, vectorized over draws."""
    r0 = turnover / (1.0 + prevalence * (rr - 1.0))  # annual turnover without burnout
    excess = r0 * (rr - 1.0)  # extra annual turnover of a burned-out physician
    avoided = n * (-effect) * excess * years
    savings = avoided * cost
    program = np.full_like(np.asarray(savings, float), n * cost_per_participant)
    net = savings - program
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(program > 0, net / np.where(program > 0, program, 1.0), np.nan)
    return {
        "turnover_avoided": avoided,
        "savings": savings,
        "program_cost": program,
        "net_benefit": net,
        "roi": roi,  # undefined (NaN) for a programme that costs nothing
        "break_even_cost": savings / n,
        "attributable_turnover": prevalence * excess,
    }


_LABELS = {
    "effect": "the size of the trial's effect on burnout",
    "burnout_prevalence": "the burnout prevalence",
    "turnover_rate": "the annual turnover rate",
    "turnover_rr": "how much more often burned-out physicians leave",
    "replacement_cost": "the cost of replacing a physician",
}


def _tornado(inputs: list[_Input], point: dict[str, float], run: Any) -> pd.DataFrame:
    """Net benefit with each uncertain input at its low and high value, largest swing first."""
    rows = []
    for i in inputs:
        if not i.uncertain:
            continue
        low_net = float(run({**point, i.name: i.low})["net_benefit"])
        high_net = float(run({**point, i.name: i.high})["net_benefit"])
        rows.append(
            {
                "input": i.name,
                "low": i.low,
                "high": i.high,
                "net_benefit_low": low_net,
                "net_benefit_high": high_net,
                "swing": abs(high_net - low_net),
            }
        )
    columns = ["input", "low", "high", "net_benefit_low", "net_benefit_high", "swing"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def _assumptions(inputs: list[_Input], *, n: float, cpp: float, years: float) -> pd.DataFrame:
    """Every input with its value, range, distribution and source."""
    rows = [
        {
            "input": i.name,
            "value": i.value,
            "low": i.low,
            "high": i.high,
            "distribution": i.distribution if i.uncertain else "fixed",
            "unit": i.unit,
            "source": i.source,
            "location": i.location,
            "verified": i.verified,
        }
        for i in inputs
    ]
    settings = (
        ("n_physicians", n, "physicians", "given"),
        ("cost_per_participant", cpp, "dollars", "given"),
        ("horizon_years", years, "years", "setting (default 1 year, as Shanafelt 2017's example)"),
    )
    for name, value, unit, source in settings:
        rows.append(
            {
                "input": name,
                "value": value,
                "low": value,
                "high": value,
                "distribution": "fixed",
                "unit": unit,
                "source": source,
                "location": "",
                "verified": False,
            }
        )
    return pd.DataFrame(rows, columns=list(ASSUMPTION_COLUMNS))


def _money(x: float) -> str:
    """Dollars with thousands separators and a leading minus sign: ``-$1,234``."""
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


@dataclass(frozen=True, eq=False, repr=False)
class BusinessCaseResult(ResultMixin):
    """Result of :func:`business_case`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``quantity, estimate, conf_low, conf_high, conf_level, unit``: expected turnover
        avoided, savings, programme cost, net benefit, ROI, break-even cost per participant and
        the annual turnover attributable to burnout, each with its Monte Carlo interval.
    assumptions : pandas.DataFrame
        ``input, value, low, high, distribution, unit, source, location, verified``: every input,
        with where its number came from.
    tornado : pandas.DataFrame
        ``input, low, high, net_benefit_low, net_benefit_high, swing``, largest swing first.
    n_draws, seed : int
        Monte Carlo draws and seed.
    """

    table: pd.DataFrame
    assumptions: pd.DataFrame
    tornado: pd.DataFrame
    conf_level: float
    n_physicians: float
    horizon_years: float
    n_draws: int
    seed: int | None

    _title: ClassVar[str] = "Business case: turnover avoided by reducing burnout"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _value(self, quantity: str, column: str = "estimate") -> float:
        return float(self.table.set_index("quantity").loc[quantity, column])

    @property
    def paragraph(self) -> str:
        """One plain-language paragraph for leadership."""
        level = f"{100 * self.conf_level:g}%"
        avoided = self._value("turnover_avoided")
        net, lo, hi = (self._value("net_benefit", c) for c in ("estimate", "conf_low", "conf_high"))
        roi = self._value("roi")
        be = self._value("break_even_cost")
        top = self.tornado["input"].iloc[0] if len(self.tornado) else None
        years = f"{self.horizon_years:g} year" + ("" if self.horizon_years == 1 else "s")
        text = (
            f"If coaching is offered to {self.n_physicians:g} physicians and lowers burnout as "
            f"much as in the trial, about {avoided:.1f} physician departures would be avoided "
            f"over {years}. Against the programme's cost, the expected net benefit is "
            f"{_money(net)} ({level} interval {_money(lo)} to {_money(hi)}), a return on "
            f"investment of {100 * roi:.0f}%. The programme pays for itself from turnover alone "
            f"if it costs less than {_money(be)} per participant."
        )
        if top is not None:
            text += f" The result depends most on {_LABELS.get(top, top)}."
        text += (
            " Only turnover costs are counted (not productivity, quality or safety), so the "
            "estimate is conservative in the sense of Shanafelt et al. (2017)."
        )
        return text

    def summary(self, digits: int = 3) -> str:
        return (
            f"{self._title}\n{format_table(self.table.drop(columns='unit'), digits)}\n\n"
            f"Assumptions\n{format_table(self.assumptions[list(ASSUMPTION_COLUMNS[:5])], digits)}"
            f"\n\n{self.paragraph}"
        )

    def _repr_html_(self) -> str:
        body = self.table.to_html(index=False, float_format=lambda x: f"{x:,.3f}")
        assumptions = self.assumptions.to_html(index=False, float_format=lambda x: f"{x:,.3f}")
        return f"<div><strong>{self._title}</strong>{body}<em>Assumptions</em>{assumptions}</div>"


def business_case(
    effect: Any,
    *,
    n_physicians: float,
    cost_per_participant: float,
    effect_se: float | None = None,
    burnout_prevalence: float | tuple[float, float, float] | None = None,
    turnover_rate: float | tuple[float, float, float] | None = None,
    turnover_rr: float | tuple[float, float, float] | None = None,
    replacement_cost: float | tuple[float, float, float] | None = None,
    horizon_years: float = 1.0,
    n_draws: int = 10_000,
    seed: int | None = None,
    conf_level: float = 0.95,
) -> BusinessCaseResult:
    r"""Turnover avoided, savings, net benefit, break-even cost and ROI of a coaching programme.

    The turnover-cost model of Shanafelt, Goh & Sinsky (JAMA Intern Med 2017): burned-out
    physicians leave more often (relative risk *RR*, Hamidi et al. 2018), so lowering burnout
    prevalence lowers turnover, and each departure avoided saves its replacement cost. With
    annual turnover *T*, burnout prevalence *p*, the trial's risk difference in burnout *RD*
    (coaching - control), *n* participants and a horizon of *H* years:

    .. math::
        r_0 = \frac{T}{1 + p(RR - 1)}, \qquad
        \text{avoided} = n \cdot (-RD) \cdot r_0 (RR - 1) \cdot H,

    savings = avoided x replacement cost; net benefit = savings - n x cost per participant;
    ROI = net benefit / programme cost; break-even cost = savings / n. The annual turnover
    attributable to burnout is :math:`p\,r_0(RR-1)`.

    Parameters
    ----------
    effect : float, effects row/table or responders result
        The trial's effect on burnout prevalence: a risk difference (coaching - control,
        negative = fewer burned out), e.g. ``ct.responders(...)`` or its risk-difference row.
    n_physicians : float
        Physicians who would receive the programme (required: organisation-specific).
    cost_per_participant : float
        Programme cost per participant over the horizon (required: no verified default).
    effect_se : float, optional
        Standard error of a numeric ``effect`` (0 or omitted: fixed).
    burnout_prevalence, turnover_rate, turnover_rr, replacement_cost : float or (value, low, high)
        Default: the verified numbers in :func:`business_sources` (Shanafelt 2017: 54% burnout,
        7% annual turnover, $500,000-$1,000,000 per replacement; Hamidi 2018: RR 2.1, 95% CI
        1.3-3.3). A number fixes the input; a triple gives a range (uniform; for the RR a 95%
        CI of a log-normal).
    horizon_years : float
        Years over which the lower burnout is assumed to last.
    n_draws : int
        Monte Carlo draws; the interval propagates the trial's sampling uncertainty (normal on
        the risk difference) and every input's range.
    seed : int, optional
        Seed of the Monte Carlo draws.
    conf_level : float
        Level of the Monte Carlo (percentile) intervals and of the effect's range in the
        tornado.

    Returns
    -------
    BusinessCaseResult
        ``to_frame()``, ``assumptions`` (each value with its source), ``tornado`` and
        ``paragraph`` (plain language).

    Notes
    -----
    Only turnover is costed: lost productivity, quality, safety and reputation are not, as in
    the published model, so the result is a lower bound on the benefit. The relative risk of
    Hamidi et al. is for leaving within two years and is applied to annual turnover.

    Validated against the worked example of Shanafelt, Goh & Sinsky (2017) (450 physicians,
    burnout 50% -> 40%, 2.5% of turnover attributable to burnout falling by 0.5%, $500,000 per
    replacement, $1 million programme: savings $1.125 million per year, ROI 12.5%) in
    ``tests/decision/test_business.py``.

    Examples
    --------
    >>> import coaching_trials as ct
    >>> res = ct.business_case(-0.10, effect_se=0.04, n_physicians=200,
    ...                        cost_per_participant=3000, seed=1)
    >>> round(float(res.to_frame().set_index("quantity").loc["turnover_avoided", "estimate"]), 2)
    0.97
    >>> res.assumptions["input"].tolist()[:2]
    ['effect', 'burnout_prevalence']
    """
    conf_level = check_conf_level(conf_level)
    z = float(critical_value(conf_level))
    n = check_number("n_physicians", n_physicians, low=0, low_open=True)
    cpp = check_number("cost_per_participant", cost_per_participant, low=0)
    years = check_number("horizon_years", horizon_years, low=0, low_open=True)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 100:
        raise ValueError(f"`n_draws` must be an integer >= 100; got {n_draws!r}.")
    defaults = read_data_toml("business_sources.toml")["inputs"]
    bounds = {
        "burnout_prevalence": {"low": 0, "high": 1},
        "turnover_rate": {"low": 0, "high": 1},
        "turnover_rr": {"low": 0, "low_open": True},
        "replacement_cost": {"low": 0},
    }
    given = {
        "burnout_prevalence": burnout_prevalence,
        "turnover_rate": turnover_rate,
        "turnover_rr": turnover_rr,
        "replacement_cost": replacement_cost,
    }
    inputs = [_effect(effect, effect_se, conf_level)] + [
        _sourced(name, given[name], defaults, bounds[name]) for name in SOURCED_INPUTS
    ]
    point = {i.name: i.value for i in inputs}
    args = {"n": n, "cost_per_participant": cpp, "years": years}

    def run(values: dict[str, Any]) -> dict[str, Any]:
        return _model(
            values["effect"],
            values["burnout_prevalence"],
            values["turnover_rate"],
            values["turnover_rr"],
            values["replacement_cost"],
            **args,
        )

    estimate = run(point)
    rng = np.random.default_rng(seed)
    draws = run({i.name: i.draw(rng, int(n_draws), z) for i in inputs})
    alpha = (1 - conf_level) / 2
    rows = []
    for quantity, unit in OUTPUTS:
        d = np.asarray(draws[quantity], float)
        e = float(estimate[quantity])
        if not np.isfinite(d).all():
            lo = hi = np.nan
        elif np.ptp(d) == 0:  # every input fixed: the interval is the point (no rounding noise)
            lo = hi = e
        else:
            lo, hi = np.quantile(d, [alpha, 1 - alpha])
        rows.append(
            {
                "quantity": quantity,
                "estimate": e,
                "conf_low": float(lo),
                "conf_high": float(hi),
                "conf_level": conf_level,
                "unit": unit,
            }
        )
    table = pd.DataFrame(rows)

    tornado = _tornado(inputs, point, run)
    assumptions = _assumptions(inputs, n=n, cpp=cpp, years=years)
    return BusinessCaseResult(
        table=table,
        assumptions=assumptions,
        tornado=tornado,
        conf_level=conf_level,
        n_physicians=n,
        horizon_years=years,
        n_draws=int(n_draws),
        seed=seed,
    )
