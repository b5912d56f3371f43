"""`gpubroker agent`: each POD's agent (admin only): budget, decisions, messages."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gpubroker.commands import _api as a
from gpubroker.commands import _options as o

app = typer.Typer(
    help="A POD's agent (admin): start with a budget, pause, decisions, messages.",
    no_args_is_help=True,
)

DecisionArg = Annotated[str, typer.Argument(help="The decision id (see `agent decisions`).")]
NotesOpt = Annotated[str, typer.Option("--notes", help="Why; kept with the decision.")]
ACK_LABELS = {"budget_limit_usd": "budget"}
STATUS_LABELS = {
    "budget_limit_usd": "budget",
    "budget_used_usd": "used",
    "budget_remaining_usd": "remaining",
    "budget_percent": "used %",
}


def _ack(ctx: typer.Context, fmt: o.FormatOpt, as_json: bool, result: Any, pod: str) -> None:
    a.show_record(ctx, fmt, as_json, result, title=f"Agent of {pod}", labels=ACK_LABELS)


@app.command("start")
def start(
    ctx: typer.Context,
    pod_id: a.PodArg,
    budget: Annotated[float, typer.Option("--budget", help="Spending limit, USD (required).")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Start the POD's agent with a spending limit.

    \b
    Example:
      gpubroker agent start pod-1a2b3c4d --budget 50
    """
    _ack(ctx, fmt, as_json, o.state(ctx).broker().admin.agent.start(pod_id, budget), pod_id)


@app.command("stop")
def stop(
    ctx: typer.Context, pod_id: a.PodArg, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False
) -> None:
    """Stop the POD's agent.

    \b
    Example:
      gpubroker agent stop pod-1a2b3c4d
    """
    _ack(ctx, fmt, as_json, o.state(ctx).broker().admin.agent.stop(pod_id), pod_id)


@app.command("pause")
def pause(
    ctx: typer.Context, pod_id: a.PodArg, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False
) -> None:
    """Pause the POD's agent.

    \b
    Example:
      gpubroker agent pause pod-1a2b3c4d
    """
    _ack(ctx, fmt, as_json, o.state(ctx).broker().admin.agent.pause(pod_id), pod_id)


@app.command("resume")
def resume(
    ctx: typer.Context, pod_id: a.PodArg, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False
) -> None:
    """Resume a paused agent.

    \b
    Example:
      gpubroker agent resume pod-1a2b3c4d
    """
    _ack(ctx, fmt, as_json, o.state(ctx).broker().admin.agent.resume(pod_id), pod_id)


@app.command("status")
def status(
    ctx: typer.Context, pod_id: a.PodArg, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False
) -> None:
    """Show the agent's state, budget use and pending decisions.

    \b
    Example:
      gpubroker agent status pod-1a2b3c4d --json
    """
    result = o.state(ctx).broker().admin.agent.status(pod_id)
    a.show_record(ctx, fmt, as_json, result, title=f"Agent of {pod_id}", labels=STATUS_LABELS)


@app.command("decisions")
def decisions(
    ctx: typer.Context,
    pod_id: a.PodArg,
    status: Annotated[
        str | None, typer.Option("--status", help="Only these, e.g. pending or executed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="At most N.")] = 100,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """List the agent's decisions (approve or reject the pending ones).

    \b
    Example:
      gpubroker agent decisions pod-1a2b3c4d --status pending
    """
    rows = o.state(ctx).broker().admin.agent.decisions(pod_id, status=status, limit=limit)
    a.show_rows(
        ctx, fmt, as_json, rows,
        widths={"decision_id": 14, "action_type": 12, "status": 10, "estimated_cost_usd": 10,
                "description": 26},
        headers={"decision_id": "decision", "action_type": "action",
                 "estimated_cost_usd": "est. cost"},
        formatters={"estimated_cost_usd": a.money},
    )  # fmt: skip


@app.command("approve")
def approve(
    ctx: typer.Context,
    pod_id: a.PodArg,
    decision_id: DecisionArg,
    notes: NotesOpt = "",
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Approve a pending decision.

    \b
    Example:
      gpubroker agent approve pod-1a2b3c4d dec-42
    """
    result = o.state(ctx).broker().admin.agent.approve(pod_id, decision_id, notes)
    _ack(ctx, fmt, as_json, result, pod_id)


@app.command("reject")
def reject(
    ctx: typer.Context,
    pod_id: a.PodArg,
    decision_id: DecisionArg,
    notes: NotesOpt = "",
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Reject a pending decision.

    \b
    Example:
      gpubroker agent reject pod-1a2b3c4d dec-42
    """
    result = o.state(ctx).broker().admin.agent.reject(pod_id, decision_id, notes)
    _ack(ctx, fmt, as_json, result, pod_id)


@app.command("budget")
def budget(
    ctx: typer.Context,
    pod_id: a.PodArg,
    usd: Annotated[float, typer.Argument(help="The new spending limit, USD.")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Set the agent's spending limit.

    \b
    Example:
      gpubroker agent budget pod-1a2b3c4d 75
    """
    _ack(ctx, fmt, as_json, o.state(ctx).broker().admin.agent.budget(pod_id, usd), pod_id)


@app.command("message")
def message(
    ctx: typer.Context,
    pod_id: a.PodArg,
    text: Annotated[str, typer.Argument(help="The message; '-' reads it from stdin.")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Send the agent a message and print its reply.

    \b
    Example:
      gpubroker agent message pod-1a2b3c4d "scale down overnight"
    """
    body = sys.stdin.read() if text == "-" else text
    reply = o.state(ctx).broker().admin.agent.message(pod_id, body)
    a.show_record(ctx, fmt, as_json, reply, title=f"Agent of {pod_id}")
