"""plots layer (see DESIGN.md): matplotlib figures drawn from results and tidy tables.

Every function takes the data first, an optional ``ax``, draws, and returns the Axes with the
numbers it drew attached as ``ax.ct_data`` (a DataFrame), so what a figure shows can be
checked and reused (e.g. as the table beside the figure in a report). Counts below
``min_cell`` are never shown (written ``"<k"``); participant ids are never drawn.
"""

from coaching_trials.plots.bars import plot_percent_change, plot_responders
from coaching_trials.plots.consort import plot_consort
from coaching_trials.plots.forest import plot_forest
from coaching_trials.plots.power import plot_power_curve
from coaching_trials.plots.tipping import plot_tipping_point
from coaching_trials.plots.trajectories import plot_trajectories

__all__ = [
    "plot_consort",
    "plot_forest",
    "plot_percent_change",
    "plot_power_curve",
    "plot_responders",
    "plot_tipping_point",
    "plot_trajectories",
]
