"""Outcome measures: scoring, change and responders. The public API integrators rely on::

    from mend.outcomes import score, change
    score("odi", [3, 2, 1, 2, 2, 1, 2, None, 2, 1])   # Score(value=35.55…, band="Moderate disability")
    change("nprs", 7, 4).responder                     # True: 3 points ≥ the MCID of 2

Pure Python; the Django app that stores responses builds on it.
"""

from mend.outcomes.scoring import Change, Measure, Score, ScoringError, change, measures, score

__all__ = ["Change", "Measure", "Score", "ScoringError", "change", "measures", "score"]
