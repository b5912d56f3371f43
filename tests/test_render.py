"""Rendering details that CliRunner (never a TTY) does not reach."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpubroker import render
from gpubroker.settings import OutputFormat


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


CELLS = [{"a": "1", "b": "long text value", "c": "x" * 30}]


def test_fit_columns_shrinks_text_then_drops_in_priority_order() -> None:
    names = {"a": "a", "b": "b", "c": "c"}
    assert render.fit_columns(["a", "b", "c"], CELLS, names, 200, ["c", "b"]) == ["a", "b", "c"]
    # c shrinks to 10 characters before anything is hidden
    # droppable columns go first, in their order
    assert render.fit_columns(["a", "b", "c"], CELLS, names, 40, ["c", "b"]) == ["a", "b"]
    # without droppable columns, long text shrinks (never below 10) before anything is hidden
    assert render.plan_columns(["a", "b", "c"], CELLS, names, 40, []) == {"a": 1, "b": 15, "c": 18}
    assert render.plan_columns(["a", "b", "c"], CELLS, names, 27, []) == {"a": 1, "b": 10, "c": 10}
    assert render.fit_columns(["a", "b", "c"], CELLS, names, 25, []) == ["a", "b"]
    assert render.fit_columns(["a", "b", "c"], CELLS, names, 5, ["c", "b"]) == ["a"]


def test_key_columns_are_never_hidden_nor_cut() -> None:
    names = {"a": "a", "b": "b", "c": "c"}
    layout = render.plan_columns(["a", "b", "c"], CELLS, names, 40, ["c", "b"], keep=["c"])
    assert layout == {"a": 1, "c": 30}
    # too narrow for even the key column: it is still shown whole (the terminal wraps)
    assert render.plan_columns(["a", "b", "c"], CELLS, names, 20, [], keep=["c"]) == {"c": 30}


def test_tty_table_uses_rich_and_right_aligns_numbers(monkeypatch: object) -> None:
    out = FakeTTY()
    rows = [{"name": "x", "price": 1.5}, {"name": "yy", "price": 12.25}]
    render.write_data(rows, OutputFormat.TABLE, out=out)
    text = out.getvalue()
    assert "┃" in text  # rich, not tabulate
    lines = [line for line in text.splitlines() if "│" in line]
    assert lines[0].endswith("  1.5") and lines[1].endswith("12.25")


def test_status_lines_one_per_failure_without_repeating_the_name() -> None:
    from gpubroker.models import ProviderState, ProviderStatus

    lines = render.status_lines(
        [
            ProviderStatus(provider="vastai", status=ProviderState.OK, count=3),
            ProviderStatus(
                provider="lambda", status=ProviderState.ERROR, message="lambda: HTTP 500"
            ),
            ProviderStatus(provider="gcp", status=ProviderState.CATALOG, count=4),
            ProviderStatus(provider="azure", status=ProviderState.OK, count=9, truncated=True),
            ProviderStatus(provider="aws", status=ProviderState.NO_CREDENTIALS, message="x"),
            ProviderStatus(provider="verda", status=ProviderState.NO_CREDENTIALS, message="y"),
        ]
    )
    assert lines == [
        "warning: lambda: error: HTTP 500",
        "note: azure: result truncated at 9 offers",
        "note: bundled catalog list prices for gcp",
        "note: skipped (no credentials): aws, verda; catalog prices shown where bundled. "
        "Add keys with `gpubroker keys set PROVIDER` (see `gpubroker providers`)",
    ]


def test_cell_text_of_non_finite_floats_does_not_crash() -> None:
    from gpubroker.render import cell_text

    assert [cell_text(v) for v in (float("inf"), float("-inf"), float("nan"))] == [
        "inf",
        "-inf",
        "nan",
    ]


def test_tty_table_prints_markup_in_cells_literally() -> None:
    out = FakeTTY()
    render.write_data([{"a": "x[/bold] [red]y"}], OutputFormat.TABLE, out=out)
    assert "x[/bold] [red]y" in out.getvalue()


# --- streaming data formats -------------------------------------------------------------------

json_rows = st.lists(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=5,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(rows=json_rows)
def test_property_streamed_json_array_is_json_dumps_of_the_list(
    rows: list[dict[str, object]],
) -> None:
    out = io.StringIO()
    render.write_json_array(iter(rows), out)
    assert out.getvalue() == json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n"


class Recorder(io.StringIO):
    """Counts how many rows the generator had produced at each write."""

    def __init__(self) -> None:
        super().__init__()
        self.produced = 0
        self.at_writes: list[int] = []

    def write(self, s: str) -> int:
        self.at_writes.append(self.produced)
        return super().write(s)


@pytest.mark.parametrize("fmt", [OutputFormat.JSON, OutputFormat.JSONL, OutputFormat.CSV])
def test_data_formats_write_rows_as_they_are_produced(fmt: OutputFormat) -> None:
    out = Recorder()

    def rows() -> Iterator[dict[str, int]]:
        for i in range(2000):
            out.produced += 1
            yield {"i": i}

    render.write_data(rows(), fmt, columns=["i"], out=out)
    assert out.produced == 2000
    # the first write happens long before the last row exists
    assert out.at_writes[0] < 1000
    lines = out.getvalue().splitlines()
    if fmt is OutputFormat.JSON:
        assert json.loads(out.getvalue()) == [{"i": i} for i in range(2000)]
    elif fmt is OutputFormat.JSONL:
        assert [json.loads(line) for line in lines] == [{"i": i} for i in range(2000)]
    else:
        assert lines == ["i", *map(str, range(2000))]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (OutputFormat.JSON, "[]\n"),
        (OutputFormat.JSONL, ""),
        (OutputFormat.CSV, "a,b\n"),
        (OutputFormat.TSV, "a\tb\n"),
    ],
)
def test_no_rows_from_a_generator(fmt: OutputFormat, expected: str) -> None:
    out = io.StringIO()
    render.write_data(iter([]), fmt, columns=["a", "b"], out=out)
    assert out.getvalue() == expected


def test_csv_takes_its_columns_from_the_first_streamed_row() -> None:
    out = io.StringIO()
    render.write_data(iter([{"x": 1, "y": None}, {"x": 2, "y": True}]), OutputFormat.CSV, out=out)
    assert out.getvalue() == "x,y\n1,\n2,true\n"
