"""`gpubroker pay`: pay a drafted subscription (PayPal), then capture the payment."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker.commands import _api as a
from gpubroker.commands import _options as o
from gpubroker.commands.subscription import _show_subscription

app = typer.Typer(
    help="Pay for a subscription (PayPal) and capture the payment.", no_args_is_help=True
)


@app.command("paypal")
def paypal(
    ctx: typer.Context,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the approval page in a browser (terminal only).")
    ] = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Create the PayPal order for the subscription `gpubroker subscribe` drafted and print
    the URL where the buyer approves it; then run `gpubroker pay capture ORDER_ID`.

    \b
    Example:
      gpubroker pay paypal --open
    """
    order = o.state(ctx).broker().account.pay_paypal()
    a.show_record(
        ctx,
        fmt,
        as_json,
        order,
        title="PayPal order",
        labels={"amount_usd": "amount"},
        hide=("next_step",),
    )
    if open_browser:
        if a.interactive():
            import webbrowser

            webbrowser.open(order.approval_url)
        else:
            a.note(ctx, "note: --open needs a terminal; open the approval URL yourself")
    a.note(ctx, f"next: approve the payment at {order.approval_url}, then `{order.next_step}`")


@app.command("capture")
def capture(
    ctx: typer.Context,
    order_id: Annotated[str, typer.Argument(help="The order id `pay paypal` printed.")],
    insecure_storage: a.InsecureStorageOpt = False,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Capture an approved PayPal order and create the subscription it paid for; its API
    key goes to the OS keyring. Safe to run again after a failure: it never pays twice.

    \b
    Example:
      gpubroker pay capture 5O190127TN364715T
    """
    sub = o.state(ctx).broker().account.capture(order_id, insecure_storage=insecure_storage)
    _show_subscription(ctx, fmt, as_json, sub)
