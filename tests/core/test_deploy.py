"""The example deployment files in deploy/ refer to commands and settings that exist."""

from __future__ import annotations

import os
import re
import shlex
import shutil
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


# -- issue 15: what the deployment trusts and writes down --------------------------------


def test_proxy_fix_trusts_the_address_and_scheme_only(database_url):
    """Behind nginx (PROXY_FIX_X_FOR=1) the app takes the client address and the scheme
    from nginx, and nothing else: a client's X-Forwarded-Host does not become the host."""
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.test import EnvironBuilder

    from survey_app import create_app
    from survey_app.config import TestConfig

    class BehindNginx(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        PROXY_FIX_X_FOR = 1

    fix = create_app(BehindNginx).wsgi_app
    assert isinstance(fix, ProxyFix)
    seen = {}

    def inner(environ, start_response):
        seen.update(environ)
        start_response("204 No Content", [])
        return [b""]

    fix.app = inner
    environ = EnvironBuilder(
        path="/feedback/new",
        base_url="http://hailong.example.gov.vn",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example.com",
            "X-Forwarded-Port": "4443",
            "X-Forwarded-Prefix": "/evil",
        },
    ).get_environ()
    fix(environ, lambda *args: None)
    assert seen["REMOTE_ADDR"] == "203.0.113.7"
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == "hailong.example.gov.vn"
    assert seen["SERVER_PORT"] == "80"
    assert seen.get("SCRIPT_NAME", "") == ""


GUNICORN_CONFIG = DEPLOY / "gunicorn.conf.py"


def _gunicorn_settings(monkeypatch, bind: str | None) -> dict:
    import runpy

    if bind is None:
        monkeypatch.delenv("GUNICORN_BIND", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_BIND", bind)
    return runpy.run_path(str(GUNICORN_CONFIG))


@pytest.mark.parametrize(
    "bind",
    ["unix:/run/hailong/gunicorn.sock", "127.0.0.1:8000", "[::1]:8000", "localhost:8000"],
)
def test_gunicorn_may_listen_on_loopback_or_a_socket(monkeypatch, bind):
    assert _gunicorn_settings(monkeypatch, bind)["bind"] == [bind]


@pytest.mark.parametrize(
    "bind", ["0.0.0.0:8000", "[::]:8000", ":8000", "10.0.0.5:8000", "127.0.0.1:8000,0.0.0.0:80"]
)
def test_gunicorn_refuses_to_listen_on_the_network(monkeypatch, bind):
    with pytest.raises(RuntimeError, match="127.0.0.1"):
        _gunicorn_settings(monkeypatch, bind)


def test_gunicorn_listens_where_nginx_sends_and_nothing_overrides_it(monkeypatch):
    settings = _gunicorn_settings(monkeypatch, None)
    [upstream] = re.findall(r"upstream hailong \{\s*server (\S+)", NGINX)
    assert settings["bind"] == [upstream] == ["127.0.0.1:8000"]
    [exec_start] = _directives(DEPLOY / "systemd" / "hailong.service")["ExecStart"]
    assert not {"-b", "--bind"} & set(shlex.split(exec_start))
    assert "GUNICORN_BIND" not in (DEPLOY / "hailong.env.example").read_text()


def _nginx_maps() -> dict[str, tuple[str, list[tuple[str, str]], str]]:
    """``map $src $dst {…}`` blocks: dst → (src, [(regex, value)…], default)."""
    maps = {}
    for src, dst, body in re.findall(r"^map \$(\w+) \$(\w+) \{(.*?)^\}", NGINX, re.S | re.M):
        entries, default = [], None
        for key, value in re.findall(r'^\s*("[^"]*"|\S+)\s+("[^"]*"|\S+);', body, re.M):
            key, value = key.strip('"'), value.strip('"')
            if key == "default":
                default = value
            else:  # "~regex", or an exact string made a regex
                entries.append((key[1:] if key.startswith("~") else f"^{re.escape(key)}$", value))
        maps[dst] = (src, entries, default)
    return maps


def _nginx_value(template: str, variables: dict[str, str], maps, groups=()) -> str:
    """Expand ``$name`` and ``$1`` in ``template`` as nginx would (maps evaluated lazily)."""

    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name.isdigit():
            return groups[int(name) - 1] or ""
        if name in maps:
            src, entries, default = maps[name]
            value = _nginx_value(f"${src}", variables, maps)
            for regex, result in entries:
                found = re.search(regex, value)
                if found:
                    return _nginx_value(result, variables, maps, found.groups())
            return _nginx_value(default, variables, maps)
        return variables.get(name, "-")

    return re.sub(r"\$(\w+)", expand, template)


def _nginx_log_line(uri: str, args: str = "", referer: str = "") -> str:
    [fmt] = re.findall(r"log_format hailong ((?:'[^']*'\s*)+);", NGINX)
    template = "".join(re.findall(r"'([^']*)'", fmt))
    variables = {
        "uri": uri,
        "args": args,
        "is_args": "?" if args else "",
        "http_referer": referer,
        "request_method": "GET",
        "server_protocol": "HTTP/1.1",
    }
    return _nginx_value(template, variables, _nginx_maps())


@pytest.mark.parametrize(
    ("uri", "args", "referer", "logged_path"),
    [
        ("/r/eyJyIjo0Mn0.Z1x2y3.AbC-dEf_gh", "", "", "/r/***"),
        ("/k/eyJrIjo3fQ.Zq.kiOsK-T0k3n/more", "lang=en", "", "/k/***/more?lang=en"),
        (
            "/k/eyJrIjo3fQ.Zq.kiOsK-T0k3n/comment",
            "",
            "https://hailong.example.gov.vn/k/eyJrIjo3fQ.Zq.kiOsK-T0k3n/more?x=1",
            "/k/***/comment",
        ),
        ("/feedback/track", "code=PA-26-ABCDEF&secret=4711-0815", "", None),
        ("/s/ABCQZG", "via=web", "https://hailong.example.gov.vn/r/eyJyIjo0Mn0.Z1x2y3", None),
    ],
)
def test_nginx_access_log_masks_the_tokens(uri, args, referer, logged_path):
    line = _nginx_log_line(uri, args, referer)
    for secret in ("eyJ", "kiOsK-T0k3n", "4711-0815"):
        assert secret not in line, line
    if logged_path:
        assert f'"GET {logged_path} HTTP/1.1"' in line
    assert '"GET /s/ABCQZG?via=web HTTP/1.1"' in _nginx_log_line("/s/ABCQZG", "via=web")
    assert "code=PA-26-ABCDEF&secret=***" in _nginx_log_line(
        "/feedback/track", "code=PA-26-ABCDEF&secret=4711-0815"
    )


@pytest.mark.parametrize(
    ("uri", "referer"),
    [
        ("/7kq20x9d", ""),
        ("/s/ABCQZG/more", "https://hailong.example.gov.vn/7kq20x9d"),
        ("/s/ABCQZG/more", "https://hailong.example.gov.vn/7kq20x9d?lang=en"),
    ],
)
def test_nginx_access_log_masks_short_links(uri, referer):
    """A short link (surveys/shortlinks.py) works for whoever has it, like a receipt token."""
    line = _nginx_log_line(uri, "", referer)
    assert "7kq20x9d" not in line, line
    if uri == "/7kq20x9d":
        assert '"GET /*** HTTP/1.1"' in line
    else:
        assert '"https://hailong.example.gov.vn/***' in line
    # other one-segment paths are not masked
    assert '"GET /healthz HTTP/1.1"' in _nginx_log_line("/healthz")


def test_nginx_logs_only_in_the_masked_format():
    """Both servers log with the hailong format (nginx's default "combined" logs the raw
    request line and Referer), and that format uses no raw URI or Referer."""
    [fmt] = re.findall(r"log_format hailong ((?:'[^']*'\s*)+);", NGINX)
    used = set(re.findall(r"\$(\w+)", fmt))
    assert not used & {"request", "request_uri", "uri", "args", "query_string", "http_referer"}
    servers = re.split(r"^server \{", NGINX, flags=re.M)[1:]
    assert len(servers) == 2
    for server in servers:
        logs = re.findall(r"^\s*access_log ([^;]+);", server, re.M)
        assert logs and all(v.split()[-1] in ("hailong", "off") for v in logs), logs
        assert any(v.endswith(" hailong") for v in logs)


def test_nginx_drops_the_forwarded_headers_the_app_does_not_trust():
    for header in ("X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix"):
        assert f'proxy_set_header {header} "";' in NGINX


NGINX_BINARY = os.environ.get("NGINX_BIN") or shutil.which("nginx")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(
    not NGINX_BINARY, reason="nginx not installed (or set NGINX_BIN=/path/to/nginx)"
)
def test_a_real_nginx_writes_the_masked_log(tmp_path):
    """The site file, TLS taken out and ports moved, run by nginx in front of a stub
    upstream: the access log has the masked lines."""
    import http.server
    import subprocess
    import threading
    import time
    import urllib.request

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = _free_port()
    site = NGINX.replace("127.0.0.1:8000", f"127.0.0.1:{upstream.server_address[1]}")
    site = re.sub(r"^\s*(listen \[::\]|ssl_).*$", "", site, flags=re.M)
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{_free_port()};")  # redirects: unused
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    temp_paths = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    (tmp_path / "nginx.conf").write_text(
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n"
        + "".join(f"{kind}_temp_path {tmp_path}/{kind};\n" for kind in temp_paths)
        + f"{site}\n}}\n"
    )
    nginx = [
        NGINX_BINARY,
        "-p",
        str(tmp_path),
        "-c",
        str(tmp_path / "nginx.conf"),
        "-e",
        str(tmp_path / "error.log"),
    ]
    checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(nginx, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/s/ABC", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        for path, referer in [
            ("/r/eyJyIjo0Mn0.Z1x2y3.AbC-dEf_gh?lang=en", ""),
            ("/k/kiOsK-T0k3n/more", "https://hailong.example.gov.vn/k/kiOsK-T0k3n"),
            ("/r%2FeyJzZWNyZXQ", ""),
            ("/feedback/track?code=PA-1&secret=4711-0815", ""),
            ("/7kq20x9d", "https://hailong.example.gov.vn/7kq20x9d"),
        ]:
            request = urllib.request.Request(
                base + path, headers={"Referer": referer} if referer else {}
            )
            urllib.request.urlopen(request, timeout=5).read()
    finally:
        server.terminate()
        server.wait(10)
        upstream.shutdown()
    log = (tmp_path / "hailong.access.log").read_text()
    assert '"GET /r/***?lang=en HTTP/1.1"' in log
    assert '"GET /k/***/more HTTP/1.1"' in log and '"https://hailong.example.gov.vn/k/***"' in log
    assert 'code=PA-1&secret=*** HTTP/1.1"' in log
    assert '"GET /*** HTTP/1.1"' in log and '"https://hailong.example.gov.vn/***"' in log
    for secret in ("eyJ", "kiOsK-T0k3n", "4711-0815", "7kq20x9d"):
        assert secret not in log, log


def test_the_monthly_report_job_has_no_statement_time_limit():
    """Web requests are cut at DATABASE_STATEMENT_TIMEOUT; the batch job reading a whole
    province's month is not (its lock waits still are)."""
    unit = _directives(DEPLOY / "systemd" / "hailong-report-monthly.service")
    assert "DATABASE_STATEMENT_TIMEOUT=0" in unit["Environment"]
    env = (DEPLOY / "hailong.env.example").read_text()
    assert not re.search(r"^DATABASE_STATEMENT_TIMEOUT=", env, re.M)  # would override the unit
