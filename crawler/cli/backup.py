"""`newswatch backup PATH`: a consistent copy of the archive, safe while the daemon runs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click

from crawler.archive_access import explain
from crawler.cli import output
from crawler.cli.context import ArchiveProblem, Context, config_option, pass_ctx

PAGES_PER_STEP = 1024  # pages copied between pauses, so a running daemon can keep writing


@click.command()
@click.argument("dest", metavar="PATH", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@config_option
@pass_ctx
def backup(obj: Context, dest: str, force: bool) -> None:
    """Copy the archive to PATH with SQLite's online backup API.

    Safe while the daemon runs: the copy is one consistent state of the archive, taken in
    steps that let the daemon keep writing. Written beside PATH first and renamed when
    complete and checked, so PATH is never half a backup. Restore by stopping the daemon and
    copying PATH over the archive (README: 'A damaged archive').
    """
    target = Path(dest)
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; give --force to replace it")
    if target.resolve() == Path(obj.config.archive.path).resolve():
        raise click.UsageError("PATH is the archive itself; give another file")
    if not target.parent.is_dir():
        raise click.UsageError(f"the folder {target.parent} does not exist")
    db = obj.open_archive()
    partial = target.with_name(target.name + ".part")
    try:
        copy = sqlite3.connect(partial)
        try:
            db.conn.backup(copy, pages=PAGES_PER_STEP, sleep=0.01)
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            articles = copy.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            copy.close()
        if check != "ok":
            raise sqlite3.DatabaseError(f"the copy failed its check: {check}")
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as e:
        partial.unlink(missing_ok=True)
        if isinstance(e, OSError) and str(e.filename or "").startswith(str(partial)):
            raise click.ClickException(f"cannot write {target}: {e.strerror}") from None
        raise ArchiveProblem(explain(obj.config.archive.path, e)) from None
    finally:
        db.close()
    size = target.stat().st_size
    output.line(f"backed up {articles} articles to {target} ({size / 1e6:.1f} MB)")
