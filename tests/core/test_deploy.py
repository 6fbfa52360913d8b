"""The example deployment files in deploy/ refer to commands and settings that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from survey_app.config import Config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
SERVICES = [p for p in UNITS if p.suffix == ".service"]
NGINX = (DEPLOY / "nginx" / "hailong.conf").read_text()


def _directives(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def _resolve(app, args: list[str]) -> click.Command:
    """Walk the app's click group like `flask ARGS` would, and parse the options (no run)."""
    command: click.Command = app.cli
    ctx = click.Context(command, info_name="flask")
    while isinstance(command, click.Group):
        name, *args = args
        sub = command.get_command(ctx, name)
        assert sub is not None, f"no command {name!r} in {command.name!r}"
        command, ctx = sub, click.Context(sub, info_name=name, parent=ctx)
    command.make_context(command.name, list(args), parent=ctx.parent)  # rejects unknown options
    return command


def _flask_args(service: Path) -> list[str] | None:
    [exec_start] = _directives(service)["ExecStart"]
    argv = shlex.split(exec_start)
    return argv[1:] if argv[0].endswith("/flask") else None


def test_every_timer_has_its_service():
    timers = {p.stem for p in UNITS if p.suffix == ".timer"}
    assert timers == {p.stem for p in SERVICES} - {"hailong"}
    assert {"hailong-outbox", "hailong-remind", "hailong-purge", "hailong-report-monthly"} <= timers
    for stem in timers:
        assert _directives(DEPLOY / "systemd" / f"{stem}.timer")["OnCalendar"]


@pytest.mark.parametrize("service", [p for p in SERVICES if p.stem != "hailong"], ids=str)
def test_timer_commands_exist_with_their_options(app, service):
    args = _flask_args(service)
    assert args, f"{service.name} does not run flask"
    _resolve(app, args)
    assert _directives(service)["EnvironmentFile"] == ["/etc/hailong/hailong.env"]


def test_the_commands_named_in_the_issue_are_the_ones_run():
    run = {" ".join(_flask_args(p) or []) for p in SERVICES}
    assert {
        "feedback remind",
        "outbox send",
        "feedback purge",
        "report monthly --period previous --output-dir /var/lib/hailong/reports",
        "backup",
    } <= run


def test_resolve_refuses_what_does_not_exist(app):
    with pytest.raises(AssertionError):
        _resolve(app, ["feedback", "nonexistent"])
    with pytest.raises(click.UsageError):
        _resolve(app, ["outbox", "send", "--no-such-option"])


def test_gunicorn_service_uses_the_config_and_the_wsgi_app():
    service = _directives(DEPLOY / "systemd" / "hailong.service")
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0].endswith("/gunicorn") and argv[-1] == "wsgi:app"
    config = DEPLOY.parent / argv[argv.index("-c") + 1]
    compile(config.read_text(), str(config), "exec")
    assert "mark_process_dead" in config.read_text()
    assert "PROMETHEUS_MULTIPROC_DIR=/run/hailong" in service["Environment"]
    assert service["RuntimeDirectory"] == ["hailong"]  # emptied at every start


def test_env_example_names_only_real_settings():
    names = [
        line.split("=", 1)[0].lstrip("#")
        for line in (DEPLOY / "hailong.env.example").read_text().splitlines()
        if re.match(r"#?[A-Z_]+=", line)
    ]
    source = (DEPLOY.parent / "survey_app" / "config.py").read_text()
    unknown = [n for n in names if f'"{n}"' not in source and n != "FLASK_APP"]
    assert names and not unknown


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def test_nginx_body_limits_match_the_app():
    limits = re.findall(r"client_max_body_size (\w+);", NGINX)
    general, feedback = (_size(v) for v in limits)
    assert general == Config.MAX_CONTENT_LENGTH
    assert feedback >= Config.ATTACHMENT_MAX_BYTES * Config.ATTACHMENT_MAX_FILES + 64 * 1024


def test_nginx_passes_request_ids_and_guards_metrics():
    assert "proxy_set_header X-Request-ID" in NGINX
    metrics = re.search(r"location = /metrics \{(.*?)\}", NGINX, re.S).group(1)
    assert "allow 127.0.0.1;" in metrics and "deny all;" in metrics
    assert "alias /opt/hailong/src/survey_app/static/;" in NGINX
