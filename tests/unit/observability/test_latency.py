"""LatencyHistogram: fixed memory, log-spaced buckets; a quantile is the upper edge of the bucket
holding it, so it is never below the exact value and at most ~4% above it."""

from __future__ import annotations

import math
import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.observability.latency import LatencyHistogram

if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:  # keep ./.hypothesis out of the checkout
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

QUANTILES = [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0]
RESOLUTION = 1.04
FLOAT_SLACK = 1e-9  # bucket edges are computed with logarithms


def exact_quantile(samples: list[float], q: float) -> float:
    """The same definition the histogram approximates: the ceil(q*n)-th smallest sample."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def histogram_of(samples: list[float]) -> LatencyHistogram:
    h = LatencyHistogram()
    for s in samples:
        h.record(s)
    return h


def assert_close(samples: list[float]) -> None:
    h = histogram_of(samples)
    for q in QUANTILES:
        exact = exact_quantile(samples, q)
        got = h.quantile(q)
        assert exact * (1 - FLOAT_SLACK) <= got <= max(exact, 1e-6) * RESOLUTION * (1 + FLOAT_SLACK), (q, exact, got)


def test_empty_histogram_reports_zero_for_every_quantile() -> None:
    h = LatencyHistogram()

    assert [h.quantile(q) for q in QUANTILES] == [0.0] * len(QUANTILES)
    assert (h.count, h.total) == (0, 0.0)


def test_count_and_total_track_every_sample() -> None:
    h = histogram_of([0.001, 0.002, 0.5])

    assert h.count == 3
    assert h.total == pytest.approx(0.503)


def test_uniform_milliseconds_quantiles_are_within_four_percent() -> None:
    assert_close([i / 1000 for i in range(1, 10_001)])  # 1 ms .. 10 s


def test_lognormal_latencies_quantiles_are_within_four_percent() -> None:
    rng = random.Random(7)
    assert_close([rng.lognormvariate(math.log(0.002), 1.0) for _ in range(20_000)])


def test_bimodal_latencies_report_the_slow_mode_at_p99() -> None:
    # Arrange: 98% fast (~1 ms), 2% slow (~250 ms)
    rng = random.Random(11)
    samples = [rng.uniform(0.0009, 0.0011) for _ in range(9_800)] + [rng.uniform(0.24, 0.26) for _ in range(200)]

    # Act
    h = histogram_of(samples)

    # Assert
    assert h.quantile(0.5) == pytest.approx(exact_quantile(samples, 0.5), rel=0.04)
    assert 0.24 <= h.quantile(0.99) <= 0.26 * RESOLUTION
    assert_close(samples)


def test_a_single_sample_is_every_quantile() -> None:
    h = histogram_of([0.0123])

    values = {h.quantile(q) for q in QUANTILES}

    assert len(values) == 1
    (value,) = values
    assert 0.0123 <= value <= 0.0123 * RESOLUTION


def test_samples_at_or_below_one_microsecond_report_one_microsecond() -> None:
    h = histogram_of([0.0, 1e-9, 1e-6])

    assert h.quantile(1.0) == pytest.approx(1e-6)


def test_samples_beyond_the_top_bucket_are_reported_at_its_edge() -> None:
    # The last bucket (1 us * 1.04^600, about 16,000 s) holds everything above it.
    h = histogram_of([1e6])

    assert h.quantile(0.5) == pytest.approx(1e-6 * RESOLUTION**600)


@settings(max_examples=200, deadline=None, database=None)
@given(samples=st.lists(st.floats(min_value=1e-6, max_value=1_000.0), min_size=1, max_size=300))
def test_any_quantile_is_at_least_exact_and_at_most_four_percent_above(samples: list[float]) -> None:
    assert_close(samples)
