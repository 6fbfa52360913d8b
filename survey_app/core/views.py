"""The public home page: what the service is, and a box for a counter's code."""

from __future__ import annotations

import re

from flask import Blueprint, redirect, render_template, request, url_for

from ..auth.permissions import public

bp = Blueprint("core", __name__)

_CODE = re.compile(r"[A-Za-z0-9]{3,16}")


@bp.get("/")
@public
def index():
    """Home: explains the survey and lets a citizen type the code from a poster."""
    code = (request.args.get("code") or "").strip().upper().replace(" ", "")
    if code and _CODE.fullmatch(code):
        return redirect(url_for("surveys.counter", code=code, via="web"), code=303)
    status = 400 if code else 200
    return render_template("core/index.html", code=code, invalid=bool(code)), status
