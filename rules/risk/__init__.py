"""Explained change-risk score: `assess` for a Change, `score_row` for labelled metric rows.

See `model.py` for how each of Kamei's 14 metrics is computed and `assess.py` for how the
trained probability and the reviewer factors add up to the 0-100 score.
"""

from gitops_health.rules.risk.assess import assess
from gitops_health.rules.risk.model import score_row

__all__ = ["assess", "score_row"]
