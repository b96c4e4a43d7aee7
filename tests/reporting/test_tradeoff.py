"""The accuracy-against-reconstruction sentence says a tendency only when the correlation is significant,
and counts the λ_sc sweep runs only when there are any."""

from __future__ import annotations

from secgan.reporting.tradeoff import cost_sentences


def _rows(pairs: list[tuple[float, float]], sweep: int = 0) -> list[dict]:
    return [
        {"accuracy": a, "reconstruction": {"psnr": p}, "sweep": i < sweep} for i, (a, p) in enumerate(pairs)
    ]


def test_a_significant_negative_correlation_is_read_as_a_tendency() -> None:
    rows = _rows([(0.1 * i, 30.0 - i + 0.01 * (i % 2)) for i in range(10)], sweep=3)
    (sentence,) = cost_sentences(rows, {})
    assert sentence.startswith("Across the 10 evaluated runs (3 of them λ_sc sweep runs), ")
    assert "r = -1.00" in sentence and "tend to fall in reconstruction PSNR" in sentence


def test_a_correlation_indistinguishable_from_zero_claims_no_tendency() -> None:
    rows = _rows([(0.1, 23.0), (0.2, 23.5), (0.3, 22.9), (0.4, 23.4), (0.5, 23.1)])
    (sentence,) = cost_sentences(rows, {})
    assert sentence.startswith("Across the 5 evaluated runs, ")  # no sweep run: none mentioned
    assert "tend to" not in sentence and "no relation this many runs can tell from none" in sentence
