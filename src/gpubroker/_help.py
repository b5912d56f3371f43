"""The root help text, pre-rendered so that ``gpubroker --help`` does not import Typer.

Typer alone takes about 100 ms to import and the command tree as long again to build;
``gpubroker --help`` and ``--version`` print from here instead. ``tests/test_startup.py``
checks that this text is exactly what Typer renders at 80 columns, so it cannot drift:
after changing a command's help or adding one, regenerate it with
``python -m gpubroker._help``.
"""

from __future__ import annotations

ROOT_HELP = """\
Usage: gpubroker [OPTIONS] COMMAND [ARGS]...

  GPU control tower: find, rank and deploy GPU compute across providers.

Options:
  --profile <str>                 Settings profile from config.toml.
  -f, --format <table|json|jsonl|csv|tsv|markdown>
                                  Output format.
  --json                          Same as --format json.
  --no-color                      No colours (NO_COLOR).
  --debug                         Tracebacks on errors; skipped rows by id.
  --version                       Show the version.
  --install-completion            Install completion for the current shell.
  --show-completion               Show completion for the current shell, to copy
                                  it or customize the installation.
  -h, --help                      Show this message and exit.

Commands:
  browse     Find GPU offers across providers, ranked best-first with TOPSIS.
  gpus       List known GPUs with their specs and the cheapest known...
  watch      Check live offers every --interval seconds until one matches,...
  providers  List providers: auth needs, credential source, last fetch,...
  doctor     Check config, home, database, keyring, provider keys and...
  plans      List the plans with price and monthly tokens: from the hosted...
  geo        Show the country the hosted API detects for you and whether it...
  subscribe  Subscribe to a plan.
  activate   Activate the subscription: its POD starts provisioning.
  status     Show the subscription and its POD's status (asks the hosted...
  estimate   Estimate what a POD costs per hour, day and month.
  deploy     Deploy a POD (an agent for a GPU offer) on AWS ECS Fargate.
  costs      What PODs cost: local estimates beside AWS Cost Explorer.
  offers     Refresh live offers, inspect one, and see price history.
  keys       Store, list and delete provider credentials.
  config     Show and change settings (config.toml profiles).
  auth       Log in to the hosted API (operators) and manage the token.
  pay        Pay for a subscription (PayPal) and capture the payment.
  validate   Validate Ecuadorian RUC and cédula numbers (locally; --remote...
  admin      Operators: dashboard, PODs, customers, billing, costs and mode...
  agent      A POD's agent (admin): start with a budget, pause, decisions,...
  configs    POD configs: which offer and how to pick it, agent size, budget.
  pods       Operate PODs: start, stop, destroy, logs, metrics, sync.
"""


def render_root_help() -> str:
    """Typer's own rendering of ``gpubroker --help`` at 80 columns."""
    from typer.testing import CliRunner

    from gpubroker.cli import app

    result = CliRunner().invoke(app, ["--help"], prog_name="gpubroker", env={"COLUMNS": "80"})
    return result.stdout


def _write() -> None:  # pragma: no cover - a maintenance script
    import re
    from pathlib import Path

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    rendered = render_root_help()
    new = re.sub(
        r"^ROOT_HELP = .*?(?=\n\n\ndef render_root_help)",
        lambda _: 'ROOT_HELP = """\\\n' + rendered.replace("\\", "\\\\") + '"""',
        text,
        count=1,
        flags=re.S | re.M,
    )
    path.write_text(new, encoding="utf-8")
    print(f"wrote {len(rendered)} characters of root help to {path}")


if __name__ == "__main__":  # pragma: no cover
    _write()
