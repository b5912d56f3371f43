"""`gpubroker admin`: the operator's views of the hosted API, and POD start/destroy/metrics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gpubroker.commands import _api as a
from gpubroker.commands import _options as o

app = typer.Typer(
    help="Operators: dashboard, PODs, customers, billing, costs and mode (admin token).",
    no_args_is_help=True,
)
pod_app = typer.Typer(help="Start, destroy and inspect one POD.", no_args_is_help=True)
app.add_typer(pod_app, name="pod")

MONTHS = "Jan–Dec"


def _k(value: Any) -> str:
    if value is None:
        return "?"
    return str(value) if value < 1000 else f"{value / 1000:.4g}k"


def _tokens(row: dict[str, Any]) -> str:
    return f"{_k(row.get('tokens_used'))}/{_k(row.get('token_limit'))}"


def _date(value: Any) -> str:
    return str(value or "")[:10]


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


@app.command("dashboard")
def dashboard(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """Show the operator dashboard: PODs, revenue, customers, plans, alerts, activity.

    \b
    Example:
      gpubroker admin dashboard
    """
    from gpubroker import render

    board = o.state(ctx).broker().admin.dashboard()
    output = o.output_format(ctx, fmt, as_json)
    data = a.dump(board)
    if output.value not in ("table", "markdown"):
        render.write_record(data, output, json_object=data)
        return
    pods, revenue, customers = board.pods, board.revenue, board.customers
    monthly = revenue.monthly_usd
    summary = {
        "PODs": _join(
            f"{pods.active or 0} active",
            f"{pods.provisioning or 0} provisioning",
            f"{pods.total or 0} total" + (f" ({pods.change})" if pods.change else ""),
        ),
        "revenue": _join(
            a.money(revenue.amount_usd or 0),
            f"{revenue.transactions or 0} transactions",
            f"average {a.money(revenue.average_usd or 0)}",
        ),
        "by month": (
            f"{render.trend(monthly)}  {MONTHS}, best {a.money(max(monthly))}" if monthly else ""
        ),
        "customers": _join(
            f"{customers.total or 0} total",
            f"{customers.active or 0} active"
            + (f" ({customers.change})" if customers.change else ""),
        ),
        "plans": _join(*(f"{name} {count}" for name, count in board.plans.items())),
        "alerts": str(board.alerts.count if board.alerts.count is not None else 0),
    }
    no_color = o.state(ctx).no_color
    render.write_record(
        data, output, title="Dashboard", cells={k: v for k, v in summary.items() if v},
        no_color=no_color,
    )  # fmt: skip
    sections: list[tuple[str, list[Any], dict[str, int], dict[str, str]]] = [
        ("Recent customers", customers.recent, {"name": 18, "email": 30, "plan": 10, "date": 16},
         {}),
        ("PODs", pods.pods, {"pod_id": 14, "email": 30, "plan": 10, "status": 18},
         {"pod_id": "pod"}),
        ("Alerts", board.alerts.items, {"severity": 10, "title": 64}, {}),
        ("Activity", board.activity, {"time": 16, "type": 14, "title": 46}, {}),
    ]  # fmt: skip
    for title, items, widths, headers in sections:
        if items:
            print()
            a.show_rows(ctx, output, False, items, widths=widths, headers=headers,
                        title=title)  # fmt: skip


@app.command("pods")
def pods(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List every POD, newest first: id, customer, plan, status, tokens used/limit.

    \b
    Example:
      gpubroker admin pods --json
    """
    rows = o.state(ctx).broker().admin.pods()
    a.show_rows(
        ctx, fmt, as_json, rows,
        widths={"pod_id": 12, "email": 22, "plan": 10, "status": 18, "tokens": 9},
        headers={"pod_id": "pod"},
        formatters={"tokens": _tokens},
    )  # fmt: skip


@app.command("customers")
def customers(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List the customers (one per e-mail): plan, status, POD, total paid.

    \b
    Example:
      gpubroker admin customers
    """
    rows = o.state(ctx).broker().admin.customers()
    a.show_rows(
        ctx, fmt, as_json, rows,
        widths={"email": 22, "name": 10, "plan": 10, "status": 18, "total_paid_usd": 10},
        headers={"total_paid_usd": "paid"},
        formatters={"total_paid_usd": a.money},
    )  # fmt: skip


@app.command("customer")
def customer(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The customer's e-mail.")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show one customer and their payments. Exit 3 when unknown (the backend answers
    HTTP 500 for that; gpubroker checks the customer list to tell the two apart).

    \b
    Example:
      gpubroker admin customer ana@example.com
    """
    detail = o.state(ctx).broker().admin.customer(email)
    output = o.output_format(ctx, fmt, as_json)
    a.show_record(ctx, output, False, detail.model_copy(update={"payments": []}),
                  title=f"Customer {detail.email or email}",
                  labels={"total_paid_usd": "paid", "tax_id": "RUC"})  # fmt: skip
    if output.value in ("table", "markdown") and detail.payments:
        print()
        a.show_rows(
            ctx, output, False, detail.payments,
            widths={"date": 12, "amount_usd": 12, "method": 12, "description": 36},
            headers={"amount_usd": "amount"}, formatters={"amount_usd": a.money, "date": _date},
            title="Payments",
        )  # fmt: skip


@app.command("billing")
def billing(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """List paid transactions: id, customer, plan, amount, date.

    \b
    Example:
      gpubroker admin billing --format csv
    """
    rows = o.state(ctx).broker().admin.billing()
    a.show_rows(
        ctx, fmt, as_json, rows,
        widths={"transaction_id": 17, "email": 22, "plan": 10, "amount_usd": 10, "date": 10},
        headers={"transaction_id": "transaction", "amount_usd": "amount"},
        formatters={"amount_usd": a.money, "date": _date},
    )  # fmt: skip


@app.command("transaction")
def transaction(
    ctx: typer.Context,
    transaction_id: Annotated[str, typer.Argument(help="The transaction id.")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show one transaction. Exit 3 when unknown (also when the backend answers 500).

    \b
    Example:
      gpubroker admin transaction TXN-1a2b3c4d
    """
    result = o.state(ctx).broker().admin.transaction(transaction_id)
    a.show_record(ctx, fmt, as_json, result, title="Transaction",
                  labels={"amount_usd": "amount"})  # fmt: skip


@app.command("costs")
def costs(ctx: typer.Context, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False) -> None:
    """Show the monthly cost estimate and profitability (Fargate list prices × active
    PODs, not AWS billing).

    \b
    Example:
      gpubroker admin costs --json
    """
    from gpubroker import render

    result = o.state(ctx).broker().admin.costs()
    output = o.output_format(ctx, fmt, as_json)
    data = a.dump(result)
    aws, pro, per = result.aws, result.profitability, result.per_pod_estimate
    cells = {
        "active PODs": a.text(result.active_pods),
        "AWS (estimate)": _join(
            a.money(aws.total_usd), f"{a.text(aws.total_hours)} h", f"{a.text(aws.pod_count)} PODs"
        ),
        "other costs": a.money(pro.other_costs_usd),
        "total costs": a.money(pro.total_costs_usd),
        "revenue": a.money(pro.revenue_usd if pro.revenue_usd is not None
                           else result.total_revenue_usd),
        "profit": a.money(pro.profit_usd),
        "margin": "" if pro.margin_percent is None else f"{pro.margin_percent:g} %",
        "profitable": a.text(pro.is_profitable),
        "per POD": _join(
            f"{a.text(per.vcpu)} vCPU", f"{a.text(per.memory_gib)} GiB",
            f"{a.money(per.monthly_cost_usd)}/month",
        ),
        "updated": a.text(result.last_updated),
    }  # fmt: skip
    render.write_record(data, output, title="Costs (monthly estimate)",
                        cells={k: v for k, v in cells.items() if v},
                        no_color=o.state(ctx).no_color)  # fmt: skip


@app.command("resend-receipt")
def resend_receipt(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The customer's e-mail.")],
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """E-mail the customer their receipt again.

    \b
    Example:
      gpubroker admin resend-receipt ana@example.com
    """
    result = o.state(ctx).broker().admin.resend_receipt(email)
    a.show_record(ctx, fmt, as_json, result, title="Receipt")


@app.command("mode")
def mode(
    ctx: typer.Context,
    new_mode: Annotated[
        str | None, typer.Argument(metavar="[sandbox|live]", help="Switch to this mode.")
    ] = None,
    confirm: Annotated[
        bool,
        typer.Option("--confirm", "--yes", help="Confirm live mode (real payments, resources)."),
    ] = False,
    config: Annotated[
        bool, typer.Option("--config", help="Show the backend's configuration summary.")
    ] = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Show the backend's mode, or switch it: live needs --confirm (asked on a terminal).

    \b
    Examples:
      gpubroker admin mode
      gpubroker admin mode live --confirm
    """
    admin = o.state(ctx).broker().admin
    if config:
        account = o.state(ctx).broker().account
        a.show_record(ctx, fmt, as_json, account.mode_config(), title="Backend configuration")
        return
    if new_mode is None:
        a.show_record(ctx, fmt, as_json, admin.mode(), title="Mode")
        return
    if new_mode.strip().lower() == "live" and not confirm:
        a.confirm(
            "Switch the backend to LIVE mode (real payments, real resources)?",
            False,
            flag="--confirm",
        )
        confirm = True
    result = admin.set_mode(new_mode, confirm=confirm)
    a.show_record(ctx, fmt, as_json, result, title="Mode")


@pod_app.command("start")
def pod_start(
    ctx: typer.Context,
    pod_id: a.PodArg,
    yes: a.YesOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Start a POD's container on ECS (billable: asks on a terminal, --yes otherwise).

    \b
    Example:
      gpubroker admin pod start pod-1a2b3c4d --yes
    """
    a.confirm(f"Start POD {pod_id} (a billable ECS task)?", yes)
    result = o.state(ctx).broker().admin.pod_start(pod_id)
    a.show_record(ctx, fmt, as_json, result, title=f"POD {pod_id}")


@pod_app.command("destroy")
def pod_destroy(
    ctx: typer.Context,
    pod_id: a.PodArg,
    yes: a.YesOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Destroy a POD (asks on a terminal, --yes otherwise). Exit 3 for an unknown POD.

    \b
    Example:
      gpubroker admin pod destroy pod-1a2b3c4d --yes
    """
    a.confirm(f"Destroy POD {pod_id}? Its container stops for good", yes)
    result = o.state(ctx).broker().admin.pod_destroy(pod_id)
    a.show_record(ctx, fmt, as_json, result, title=f"POD {pod_id}")


@pod_app.command("metrics")
def pod_metrics(
    ctx: typer.Context, pod_id: a.PodArg, fmt: o.FormatOpt = None, as_json: o.JsonOpt = False
) -> None:
    """Show a POD's CPU and memory use, uptime and addresses.

    \b
    Example:
      gpubroker admin pod metrics pod-1a2b3c4d
    """
    result = o.state(ctx).broker().admin.pod_metrics(pod_id)
    a.show_record(
        ctx, fmt, as_json, result, title=f"POD {pod_id} metrics",
        labels={"cpu_percent": "CPU %", "memory_percent": "memory %", "uptime_s": "uptime s"},
    )  # fmt: skip
