"""``registry-link serve`` (the DCI search API over HTTP) and ``keys add|list|revoke|public-key|
signing-key``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from registry_link.cli._common import console, model_config_option, out, registry_options
from registry_link.cli.db_cmd import db_option, operator_option
from registry_link.db.access import API_SCOPES
from registry_link.errors import UsageError


@click.command("serve")
@registry_options
@model_config_option
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trained model JSON (`registry-link train`, or a match/demo run's model.json).",
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--jobs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("registry-link-jobs"),
    show_default=True,
    help="Where batch jobs keep their uploads and result files.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=50.0,
    show_default=True,
    help="Searches per second each API key may sustain (burst: twice that).",
)
@click.option(
    "--search-batch",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Most records searched in one call: concurrent searches are answered together, each "
    "as if alone (1: each alone).",
)
@click.option(
    "--signing-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ed25519 private key (PEM) to sign every DCI envelope the service sends "
    "(`registry-link keys signing-key` makes one; GET /signing-key serves its public key).",
)
@click.option(
    "--require-signatures",
    is_flag=True,
    help="Refuse the DCI envelopes of API keys that have no partner public key (`registry-link "
    "keys public-key`); without it they are taken unchecked. Keys with one are always checked.",
)
@click.option(
    "--max-signature-age",
    "max_signature_seconds",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    help="Longest validity window (expires - created, seconds) of a partner's signature; "
    "each accepted signature is remembered that long and the same signed envelope is "
    "refused a second time (replay).",
)
@click.option(
    "--key-cache-seconds",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="How long an API key verified against the database is trusted without reading it "
    "again: a key revoked (`registry-link keys revoke`), or its scopes changed, takes effect "
    "within this many seconds (0: on the next request, one database read per request).",
)
@click.option(
    "--gc-freeze/--no-gc-freeze",
    default=True,
    show_default=True,
    help="Keep Python's garbage collector off the long-lived heap: what is alive once the "
    "index is built is frozen (gc.freeze), and again after each later full collection, so "
    "that no full collection walks the whole index's memos inside a search.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes answering on the one socket (spawned, each building its own "
    "registry index at start-up, all at once: memory is the index's times N). Above 1: a "
    "registry update made through any of them is seen by a search in any other; each "
    "process gives a key --rate/N (so about --rate in all); a signed envelope is refused a "
    "second time whichever process gets it; batch jobs are kept in the database (and run "
    "up to N at once); asynchronous searches (POST /registry/search, txn/status) are "
    "refused (501): use the synchronous search.",
)
def command(
    registry_path: Path,
    registry_config: Path | None,
    model_config: Path,
    model_path: Path,
    db_url: str | None,
    host: str,
    port: int,
    jobs_dir: Path,
    rate: float,
    search_batch: int,
    signing_key: Path | None,
    require_signatures: bool,
    max_signature_seconds: int,
    key_cache_seconds: float,
    gc_freeze: bool,
    workers: int,
) -> None:
    """Serve the DCI search API: search the registry by identifier or demographic predicates.

    Partners authenticate with an API key (`registry-link keys add`); every search is written
    to the database's append-only search audit. GET /openapi.json documents the API.

    \b
    Example:
      registry-link demo --out out/demo                 # trains out/demo/model.json
      registry-link keys add --partner CNSS --scope search:id --scope search:demographic
      registry-link serve --registry sample_data/registry.csv --model out/demo/model.json
      registry-link serve --registry sample_data/registry.csv --model out/demo/model.json \\
          --signing-key service-key.pem                 # signed answers
      registry-link serve --registry sample_data/registry.csv --model out/demo/model.json \\
          --require-signatures                          # partners must sign requests
      registry-link serve --registry sample_data/registry.csv --model out/demo/model.json \\
          --max-signature-age 300                       # signatures valid 5 min at most
      registry-link serve --registry sample_data/registry.csv --model out/demo/model.json \\
          --key-cache-seconds 0                         # a revoked key refused at once
      registry-link serve --registry sample_data/registry.csv --model out/demo/model.json \\
          --workers 2                                   # two processes (2 cores, memory x2)
    """
    from registry_link.service import ServiceSettings, create_app, require_serve_extra

    require_serve_extra()
    from registry_link.service.server import make_server, serve_workers

    settings = ServiceSettings(
        registry=registry_path,
        registry_config=registry_config,
        model=model_path,
        model_config=model_config,
        db_url=db_url,
        jobs_dir=jobs_dir,
        rate_per_second=rate,
        rate_burst=max(1, int(rate * 2)),
        search_batch=search_batch,
        signing_key=signing_key,
        require_signatures=require_signatures,
        max_signature_seconds=max_signature_seconds,
        key_cache_seconds=key_cache_seconds,
        gc_freeze=gc_freeze,
        workers=workers,
    )
    app = create_app(settings) if workers == 1 else None
    processes = f"{workers} processes, " if workers > 1 else ""
    console.print(
        f"serving on http://{host}:{port} ({processes}GET /ready is 200 once the index is "
        f"built; /docs and /openapi.json describe the API)",
        highlight=False,
    )
    if workers == 1:
        make_server(app, host, port).run()
    else:
        serve_workers(settings, host, port)


@click.group("keys")
def keys_group() -> None:
    """API keys of partner organisations for `registry-link serve` (stored hashed).

    \b
    Example:
      registry-link keys add --partner CNSS --scope search:id
      registry-link keys list
      registry-link keys revoke 3f9a1c2b7d4e
      registry-link keys public-key 3f9a1c2b7d4e --file cnss-public.pem
    """


@keys_group.command("add")
@click.option("--partner", required=True, help="The partner organisation (e.g. CNSS).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(API_SCOPES),
    help="What the key may do; repeat for several.",
)
@click.option(
    "--callback-prefix",
    "callback_prefixes",
    multiple=True,
    metavar="URL",
    help="A URI prefix the key's asynchronous searches may be answered to (their "
    "header.sender_uri must lie under one); repeat for several. None: no callbacks.",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The partner's Ed25519 public key (PEM, or the raw key in base64): the key's DCI "
    "envelopes must then be signed with it.",
)
@db_option
@operator_option
def keys_add(
    partner: str,
    scopes: tuple[str, ...],
    callback_prefixes: tuple[str, ...],
    public_key_file: Path | None,
    db_url: str | None,
    operator: str | None,
) -> None:
    """Make an API key; it is printed once and only its hash is stored.

    \b
    Example:
      registry-link keys add --partner CNSS --scope search:id --scope search:demographic
      registry-link keys add --partner CNSS --scope search:id \\
          --callback-prefix https://partner.example/dci/
      registry-link keys add --partner CNSS --scope search:id --public-key cnss-public.pem
    """
    from registry_link.db.access import add_key
    from registry_link.db.engine import prepare_database, transaction
    from registry_link.db.repository import audit, operator_name

    public_key = _public_key(public_key_file) if public_key_file is not None else None
    factory = prepare_database(db_url)
    actor = operator_name(operator)
    with transaction(factory) as session:
        made = add_key(session, partner, scopes, actor, callback_prefixes, public_key)
        audit(
            session,
            actor,
            "key.add",
            made.info.key_id,
            {
                "partner": made.info.partner,
                "scopes": list(made.info.scopes),
                "callback_prefixes": list(made.info.callback_prefixes),
                "public_key": made.info.public_key,
            },
        )
    console.print(
        f"API key {made.info.key_id} for {made.info.partner} ({', '.join(made.info.scopes)}); "
        "it is shown once, keep it now:",
        highlight=False,
    )
    out.print(made.key, highlight=False, soft_wrap=True)


@keys_group.command("list")
@db_option
def keys_list(db_url: str | None) -> None:
    """List the API keys (ids, partners, scopes; never the keys).

    \b
    Example:
      registry-link keys list
    """
    from registry_link.db.access import list_keys
    from registry_link.db.engine import open_database, transaction

    with transaction(open_database(db_url)) as session:
        keys = list_keys(session)
    table = Table(title=f"{len(keys)} API key(s)", title_justify="left")
    longest = max((len(p) for key in keys for p in key.callback_prefixes), default=0)
    for column in ("key id", "partner", "scopes", "callback prefixes", "signed", "state"):
        # a prefix is never cut (the scopes wrap instead): it is what a partner must match
        table.add_column(column, min_width=min(longest, 60) if column[0] == "c" else None)
    for key in keys:
        table.add_row(
            key.key_id,
            key.partner,
            ", ".join(key.scopes),
            ", ".join(key.callback_prefixes) or "-",
            "yes" if key.public_key else "no",
            "revoked" if key.revoked else "active",
        )
    out.print(table)


@keys_group.command("revoke")
@click.argument("key_id")
@db_option
@operator_option
def keys_revoke(key_id: str, db_url: str | None, operator: str | None) -> None:
    """Revoke an API key: refused from the next request on.

    \b
    Example:
      registry-link keys revoke 3f9a1c2b7d4e
    """
    from registry_link.db.access import revoke_key
    from registry_link.db.engine import open_database, transaction
    from registry_link.db.repository import audit, operator_name

    actor = operator_name(operator)
    with transaction(open_database(db_url)) as session:
        info = revoke_key(session, key_id)
        audit(session, actor, "key.revoke", info.key_id, {"partner": info.partner})
    out.print(f"revoked API key {info.key_id} of {info.partner}", highlight=False)


def _public_key(path: Path) -> str:
    """The partner public key in ``path`` (PEM or raw base64), as the database keeps it."""
    from registry_link.service import require_serve_extra
    from registry_link.service.signing import read_public_key

    require_serve_extra()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"public key {path}: cannot read it ({exc})") from None
    return read_public_key(text, f"public key {path}")


@keys_group.command("public-key")
@click.argument("key_id")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The partner's Ed25519 public key (PEM, or the raw key in base64).",
)
@click.option("--remove", is_flag=True, help="Stop checking this key's signatures.")
@db_option
@operator_option
def keys_public_key(
    key_id: str, path: Path | None, remove: bool, db_url: str | None, operator: str | None
) -> None:
    """Set the public key a partner signs its DCI envelopes with (or remove it).

    From then on the service refuses that key's envelopes whose signature is missing,
    expired, or not made with this public key over their header and message.

    \b
    Example:
      registry-link keys public-key 3f9a1c2b7d4e --file cnss-public.pem
      registry-link keys public-key 3f9a1c2b7d4e --remove
    """
    from registry_link.db.access import set_public_key
    from registry_link.db.engine import open_database, transaction
    from registry_link.db.repository import audit, operator_name

    if (path is None) == (not remove):
        raise UsageError("give either --file PUBLIC_KEY or --remove")
    public_key = _public_key(path) if path is not None else None
    actor = operator_name(operator)
    with transaction(open_database(db_url)) as session:
        info = set_public_key(session, key_id, public_key)
        audit(
            session,
            actor,
            "key.public_key",
            info.key_id,
            {"partner": info.partner, "public_key": info.public_key},
        )
    what = "now checked with that public key" if public_key else "no longer checked"
    out.print(f"API key {info.key_id} of {info.partner}: signatures {what}", highlight=False)


@keys_group.command("signing-key")
@click.option(
    "--out",
    "path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the new private key (PEM; never overwritten).",
)
def keys_signing_key(path: Path) -> None:
    """Make the service's Ed25519 signing key; prints its id and public key for partners.

    The private key file is readable by its owner only; give it to `registry-link serve
    --signing-key`. Partners verify answers with the public key (also at GET /signing-key).

    \b
    Example:
      registry-link keys signing-key --out service-key.pem
    """
    from registry_link.service import require_serve_extra
    from registry_link.service.signing import new_signing_key

    require_serve_extra()
    signer = new_signing_key(path)
    console.print(
        f"wrote the signing key {signer.key_id} to {path} (keep it secret)", highlight=False
    )
    out.print(f"key_id {signer.key_id}\npublic_key {signer.public_key_b64}", highlight=False)


commands = [command, keys_group]
