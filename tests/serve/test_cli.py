"""`newswatch serve` at the edge: its config section and errors that stop it before it serves."""

from __future__ import annotations


def test_a_bad_base_url_is_a_config_error(cli, write_config):
    path = write_config('[serve]\nbase_url = "javascript:alert(1)"\n')
    result = cli("--config", str(path), "serve")
    assert result.exit_code == 2
    assert "serve.base_url" in result.output and "http(s) URL" in result.output


def test_a_missing_archive_is_one_clear_error(cli, write_config, tmp_path):
    path = write_config("[archive]\npath = '{archive}'\n")
    result = cli("--config", str(path), "serve", "--archive", str(tmp_path / "nowhere.db"))
    assert result.exit_code == 1
    assert "no archive at" in result.output and "nowhere.db" in result.output
    assert not (tmp_path / "nowhere.db").exists()  # serving never creates an archive


def test_a_busy_port_is_one_clear_error(cli, write_config, tmp_path):
    import socket

    from support.serve_archive import build

    build(tmp_path / "a.db")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        path = write_config("")
        result = cli(
            "--config", str(path), "serve", "--archive", str(tmp_path / "a.db"), "--port", str(port)
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
