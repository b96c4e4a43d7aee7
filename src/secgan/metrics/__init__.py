"""Evaluation metrics: editing accuracy, Fréchet distances (ssFID, FID, substitutes), Inception Scores.

The math lives in :mod:`.accuracy`, :mod:`.frechet` and :mod:`.inception_score`; the networks that produce
features in :mod:`.features`; :mod:`.evaluate` drives a whole evaluation (``secgan evaluate``).
"""
