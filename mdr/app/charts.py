"""Plotly charts of the app: class probabilities, stage timings, per-digit accuracy, confusions."""
from __future__ import annotations

import numpy as np

from mdr.app.theme import ACCENT, MUTED


def probability_chart(digit, title: str = ""):
    """Plotly bars of the ten class probabilities, the chosen digit highlighted."""
    import plotly.graph_objects as go

    probabilities = np.asarray(digit.probabilities, dtype=float) * 100
    colours = [ACCENT if d == digit.digit else MUTED for d in range(10)]
    figure = go.Figure(
        go.Bar(
            x=[str(d) for d in range(10)],
            y=probabilities,
            marker_color=colours,
            text=[f"{p:.1f}%" if p >= 0.05 else "" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2f}%<extra></extra>",
        )
    )
    figure.update_layout(
        title=title or None,
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability (%)", range=[0, 110], showgrid=True),
        height=320,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        showlegend=False,
    )
    return figure


def timings_chart(timings_ms: dict[str, float]):
    import plotly.graph_objects as go

    steps = list(timings_ms)
    figure = go.Figure(
        go.Bar(
            x=[timings_ms[s] for s in steps], y=steps, orientation="h", marker_color=MUTED,
            text=[f"{timings_ms[s]:.1f} ms" for s in steps], textposition="auto",
            hovertemplate="%{y}: %{x:.2f} ms<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis_title="milliseconds", yaxis=dict(autorange="reversed"),
        height=60 + 28 * len(steps), margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure


def per_class_chart(per_class: list[float]):
    import plotly.graph_objects as go

    values = [float(v) * 100 for v in per_class]
    low = min(values)
    figure = go.Figure(go.Bar(
        x=[str(d) for d in range(10)], y=values,
        marker_color=[ACCENT if v == low else MUTED for v in values],
        text=[f"{v:.1f}%" for v in values], textposition="outside",
        hovertemplate="digit %{x}: %{y:.2f}% read correctly<extra></extra>",
    ))
    floor = max(0.0, min(95.0, low - 1.5))
    figure.update_layout(
        xaxis=dict(title="true digit", type="category"),
        yaxis=dict(title="read correctly (%)", range=[floor, 100.6]),
        height=280, margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure


def mistakes_chart(confusion: list[list[int]]):
    """Off-diagonal counts of the confusion matrix: how often digit X was read as Y."""
    import plotly.graph_objects as go

    counts = np.asarray(confusion, dtype=float)
    np.fill_diagonal(counts, np.nan)
    figure = go.Figure(go.Heatmap(
        z=counts, x=[str(d) for d in range(10)], y=[str(d) for d in range(10)],
        colorscale="Oranges", hoverongaps=False,
        text=[["" if np.isnan(v) or v == 0 else f"{v:.0f}" for v in row] for row in counts],
        texttemplate="%{text}", colorbar=dict(title="images"),
        hovertemplate="a %{y} read as %{x}: %{z:.0f} times<extra></extra>",
    ))
    figure.update_layout(
        xaxis=dict(title="read as", type="category", side="top"),
        yaxis=dict(title="true digit", type="category", autorange="reversed"),
        height=420, margin=dict(l=10, r=10, t=40, b=10),
    )
    return figure
