#!/usr/bin/env python3
"""Staff feedback dashboard benchmark: the queue, its filters, a case page and an export
on 200,000 cases.

    python bench/feedback_queue.py [--cases 200000] [--db sqlite|postgres|both]
                                   [--reps 20] [--warmup 3] [--no-candidates] [--md PATH]
                                   [--keep]

For each database it creates a throwaway database (SQLite: a temporary file, WAL as the
app configures it; PostgreSQL: ``hailong_bench_q_<pid>`` on 127.0.0.1, user postgres,
created and dropped over an AUTOCOMMIT connection), builds the schema with the Alembic
migrations (``flask_migrate.upgrade``), then loads with SQLAlchemy Core bulk inserts:

* ~500 agencies in a tree (province, departments and their sub-units, districts and their
  communes; paths made by ``create_agency``), ~20 fields and ~300 procedures;
* a coordinator (whole province) and handlers of departments and districts (cheap
  argon2 parameters, as the test suite uses);
* ``--cases`` feedback cases received over two years: older cases mostly closed,
  published or rejected (no due date), recent ones spread over the open states, a few
  old ones stuck open (overdue); agencies Zipf-like, about half of the cases still being
  screened in the coordinators' queue (no agency); procedures, channels, Vietnamese
  content; and their timeline events (1-3 per case).

PostgreSQL is then ``VACUUM ANALYZE``d, as autovacuum would do after such a load.
SQLite is measured as the app leaves it (the app never runs ``ANALYZE``).

It then measures, in-process with the Flask test client logged in (a real ``POST
/login`` with the CSRF token of the login page), the wall time of each request (median
and p95 over ``--reps`` repetitions after ``--warmup``): the coordinator's queue (first
page and the per-state counts) unfiltered and with each filter, a handler's queue (the
subtree of their district), a case page and the CSV export of one agency's cases.

The baseline, measured in the same run through the same engine: ``SELECT id FROM
feedback_cases ORDER BY id LIMIT 50`` and the raw per-state count. For each request the
SELECT statements it issued are captured and re-run alone (the "SQL" column), which splits
database time from Flask, ORM and template time. ``EXPLAIN QUERY PLAN`` (SQLite) or
``EXPLAIN (ANALYZE, BUFFERS)`` (PostgreSQL) of the queue and count queries shows which
indexes are used.

Then (unless ``--no-candidates``) it adds the indexes in ``CANDIDATES``, which are NOT in
the migrations, to the same throwaway database and measures the same requests again, to
show what they would change.

Results are printed as Markdown and written to ``--md`` (default
``bench/feedback_queue.md``; ``--md -`` writes nothing): only the part between the
"results start/end" markers is replaced, the text around it is kept. Only 127.0.0.1 is
ever contacted. This is a benchmark, not a test: it asserts only that each page answers 200.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from flask_migrate import upgrade

from survey_app import create_app
from survey_app.agencies.models import AgencyKind, Procedure, ProcedureField
from survey_app.agencies.services import create_agency
from survey_app.auth.models import Role
from survey_app.auth.services import create_user
from survey_app.config import TestConfig
from survey_app.extensions import db
from survey_app.feedback.models import CaseEvent, FeedbackCase

PG_HOST = "127.0.0.1"  # loopback only, always
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:5432/postgres"
PASSWORD = "bench-password-123"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_MD = ROOT / "bench" / "feedback_queue.md"
LOADAVG: list[float] = [0.0, 0.0, 0.0]
#: Re-runs of each captured SELECT alone (at most; a median of 10 is steady enough).
SQL_REPS = 10
#: What the text filter looks for: a phrase in about 4 % of the cases.
SEARCH_TEXT = "sổ đỏ"

#: Indexes tried in the second round (not in the migrations). Each: name, dialects, DDL.
CANDIDATES: list[tuple[str, tuple[str, ...], str]] = [
    # The queue's ORDER BY (due_on IS NULL, due_on, id) as an index: the first page is read
    # in order instead of sorting every visible case.
    (
        "ix_fc_queue_order",
        ("sqlite", "postgresql"),
        "CREATE INDEX ix_fc_queue_order ON feedback_cases ((due_on IS NULL), due_on, id)",
    ),
    # The same order within one agency: the agency filter, a handler's subtree, the export.
    (
        "ix_fc_agency_queue_order",
        ("sqlite", "postgresql"),
        (
            "CREATE INDEX ix_fc_agency_queue_order ON feedback_cases "
            "(agency_id, (due_on IS NULL), due_on, id)"
        ),
    ),
    # Trigram index for the text filter (code/content ILIKE '%...%').
    (
        "ix_fc_content_trgm",
        ("postgresql",),
        "CREATE INDEX ix_fc_content_trgm ON feedback_cases USING gin (content gin_trgm_ops)",
    ),
    (
        "ix_fc_code_trgm",
        ("postgresql",),
        "CREATE INDEX ix_fc_code_trgm ON feedback_cases USING gin (code gin_trgm_ops)",
    ),
]


def log(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- databases


class Database:
    kind = ""
    label = ""
    url = ""

    def create(self) -> None: ...

    def drop(self) -> None: ...

    def describe(self) -> str:
        return self.label


class SqliteDatabase(Database):
    kind, label = "sqlite", "SQLite"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hailong_bench_q_"))
        self.url = f"sqlite:///{self.dir / 'bench.sqlite3'}"

    def describe(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (temporary file, WAL)"

    def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresDatabase(Database):
    kind, label = "postgresql", "PostgreSQL"

    def __init__(self) -> None:
        self.name = f"hailong_bench_q_{os.getpid()}"
        self.url = f"postgresql+psycopg://postgres@{PG_HOST}:5432/{self.name}"
        self.version = ""

    def _admin(self, sql: str) -> Any:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                return (
                    conn.exec_driver_sql(sql).scalar()
                    if sql.startswith("SELECT")
                    else conn.exec_driver_sql(sql)
                )
        finally:
            engine.dispose()

    def create(self) -> None:
        self.version = self._admin("SELECT version()").split(" on ")[0]
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def describe(self) -> str:
        return f"{self.version} (database {self.name} on {PG_HOST})"


# --------------------------------------------------------------------------- data

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Xuân", "Thu"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Hương",
    "Khoa",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vân",
    "Yến",
]
DEPARTMENTS = [
    "Sở Tư pháp",
    "Sở Tài nguyên và Môi trường",
    "Sở Xây dựng",
    "Sở Kế hoạch và Đầu tư",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Giao thông vận tải",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Tài chính",
    "Sở Nội vụ",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Thông tin và Truyền thông",
    "Sở Khoa học và Công nghệ",
    "Ban Dân tộc",
    "Thanh tra tỉnh",
    "Công an tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Cục Thuế tỉnh",
    "Sở Ngoại vụ",
    "Ban Quản lý các khu công nghiệp",
    "Kho bạc Nhà nước tỉnh",
    "Cục Hải quan tỉnh",
    "Sở Du lịch",
]
SUBUNITS = [
    "Văn phòng đăng ký đất đai",
    "Trung tâm dịch vụ",
    "Phòng Hành chính tư pháp",
    "Chi cục",
    "Trung tâm kiểm định",
]
DISTRICTS = [
    "Thành phố Hải Dương",
    "Thành phố Chí Linh",
    "Thị xã Kinh Môn",
    "Huyện Nam Sách",
    "Huyện Kim Thành",
    "Huyện Thanh Hà",
    "Huyện Cẩm Giàng",
    "Huyện Bình Giang",
    "Huyện Gia Lộc",
    "Huyện Tứ Kỳ",
    "Huyện Ninh Giang",
    "Huyện Thanh Miện",
]
FIELDS = [
    "Hộ tịch",
    "Đất đai",
    "Xây dựng",
    "Đăng ký kinh doanh",
    "Lao động",
    "Bảo trợ xã hội",
    "Giao thông",
    "Y tế",
    "Giáo dục",
    "Thuế",
    "Bảo hiểm",
    "Cư trú",
    "Chứng thực",
    "Môi trường",
    "Nông nghiệp",
    "Công thương",
    "Tài chính",
    "Văn hóa",
    "Thông tin",
    "Khoa học",
]
PROC_NAMES = [
    "Đăng ký khai sinh",
    "Cấp giấy chứng nhận quyền sử dụng đất",
    "Cấp giấy phép xây dựng",
    "Đăng ký thành lập doanh nghiệp",
    "Cấp phiếu lý lịch tư pháp",
    "Chứng thực bản sao",
    "Đăng ký kết hôn",
    "Cấp đổi giấy phép lái xe",
    "Đăng ký thường trú",
    "Hỗ trợ hộ nghèo",
    "Cấp sổ bảo hiểm xã hội",
    "Đăng ký biến động đất đai",
]
TOPICS = [
    "làm giấy khai sinh cho con",
    "cấp sổ đỏ cho thửa đất của gia đình",
    "xin giấy phép xây dựng nhà ở",
    "đăng ký kinh doanh hộ cá thể",
    "chuyển hộ khẩu",
    "cấp lại căn cước",
    "chứng thực giấy tờ",
    "hưởng trợ cấp thất nghiệp",
    "đổi giấy phép lái xe",
    "đăng ký kết hôn",
    "cấp phiếu lý lịch tư pháp",
    "hỗ trợ người có công",
    "đăng ký biến động đất đai",
    "hoàn thuế thu nhập cá nhân",
]
COMPLAINTS = [
    "quầy yêu cầu nộp thêm bản sao không cần thiết",
    "hồ sơ bị trả về nhiều lần mà không nói rõ lý do",
    "quá hạn hẹn trả kết quả nhưng chưa nhận được thông báo",
    "cán bộ hướng dẫn không đúng quy định",
    "phải đi lại nhiều lần giữa các cơ quan",
    "thu phí cao hơn mức niêm yết",
    "cổng dịch vụ công trực tuyến báo lỗi khi nộp hồ sơ",
    "thời gian chờ tại bộ phận một cửa quá lâu",
    "thủ tục yêu cầu xác nhận của nhiều nơi",
]
PROPOSALS = [
    "Đề nghị niêm yết rõ thành phần hồ sơ tại quầy.",
    "Đề nghị cho phép nộp bản điện tử thay cho bản giấy.",
    "Đề nghị rút ngắn thời gian giải quyết.",
    "Đề nghị bổ sung quầy vào buổi sáng thứ Bảy.",
    "Đề nghị hướng dẫn cụ thể hơn trên cổng dịch vụ công.",
    "",
]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

FINAL = {"rejected", "redirected_complaint", "published", "closed"}
#: The usual path through the workflow, for timelines.
PATH = [
    "submitted",
    "screening",
    "accepted",
    "assigned",
    "in_progress",
    "answered",
    "approved",
    "published",
    "closed",
]
STATE_MIX = {  # by age of the case (days): (weights by state)
    "old": {
        "closed": 62,
        "published": 20,
        "rejected": 10,
        "redirected_complaint": 4,
        "in_progress": 0.5,
        "assigned": 0.2,
        "answered": 0.2,
        "approved": 0.1,
        "needs_info": 0.1,
        "transferred": 0.1,
    },
    "middle": {
        "closed": 30,
        "published": 20,
        "rejected": 8,
        "redirected_complaint": 3,
        "approved": 5,
        "answered": 8,
        "in_progress": 10,
        "assigned": 3,
        "needs_info": 3,
        "transferred": 1,
        "accepted": 2,
    },
    "recent": {
        "submitted": 8,
        "screening": 10,
        "needs_info": 5,
        "transferred": 4,
        "accepted": 8,
        "assigned": 12,
        "in_progress": 25,
        "answered": 10,
        "approved": 4,
        "published": 4,
        "rejected": 6,
        "redirected_complaint": 2,
        "closed": 2,
    },
}
CHANNELS = {"web": 45, "survey": 20, "paper": 10, "phone": 10, "email": 5, "api": 10}
#: Working days allowed in each state's step (screening 2, transfer 5, answer 15, publish 2).
STEP_DAYS = {
    "submitted": 2,
    "screening": 2,
    "transferred": 5,
    "accepted": 15,
    "assigned": 15,
    "in_progress": 15,
    "answered": 15,
    "approved": 2,
    "needs_info": 2,
}


def _choice(rnd: random.Random, weights: dict[str, float]) -> str:
    return rnd.choices(list(weights), weights=list(weights.values()))[0]


def _workdays(start: date, days: int) -> date:
    return start + timedelta(days=math.ceil(days * 7 / 5))


def _code(i: int, year: int) -> str:
    n = (i * 1_000_003) % (32**6)  # a bijection: codes look random but never collide
    chars = []
    for _ in range(6):
        n, r = divmod(n, 32)
        chars.append(CODE_ALPHABET[r])
    return f"PA-{year % 100:02d}-{''.join(chars)}"


@dataclass
class World:
    """What the seeding made and the measurements need."""

    n_cases: int = 0
    n_events: int = 0
    agencies: int = 0
    procedures: int = 0
    users: dict[str, str] = field(default_factory=dict)  # role label -> e-mail
    top_agency: tuple[int, str, int] = (0, "", 0)  # id, name, cases
    small_agency: tuple[int, str, int] = (0, "", 0)  # id, name, cases (the fewest, at least 10)
    case_code: str = ""
    district: tuple[int, str, int, int] = (0, "", 0, 0)  # id, name, subtree cases, agencies
    case_id: int = 0
    state_counts: dict[str, int] = field(default_factory=dict)
    open_cases: int = 0
    overdue: int = 0
    coordinators_queue: int = 0
    search_hits: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def seed(n_cases: int, rnd: random.Random) -> World:
    """Agencies, procedures and users through the app's services; cases with Core inserts."""
    world = World()
    t0 = time.perf_counter()
    # -- agencies: ids, paths and kinds through create_agency --
    province = create_agency("UBND", "Ủy ban nhân dân tỉnh", None, AgencyKind.province)
    weights: dict[int, float] = {province.id: 20}
    kinds: dict[int, str] = {province.id: "province"}
    names: dict[int, str] = {province.id: province.name}
    departments, districts = [], []
    parent_of: dict[int, int] = {}
    for k, name in enumerate(DEPARTMENTS):
        dept = create_agency(f"S{k:02d}", name, province, AgencyKind.department)
        departments.append(dept)
        weights[dept.id] = 400 / (k + 1) ** 0.9  # a few departments get most cases
        names[dept.id], kinds[dept.id] = name, "department"
        for j in range(2):
            sub = create_agency(
                f"S{k:02d}-{j}",
                f"{SUBUNITS[(k + j) % len(SUBUNITS)]} - {name}",
                dept,
                AgencyKind.other,
            )
            weights[sub.id], names[sub.id], kinds[sub.id] = 6, sub.name, "other"
            parent_of[sub.id] = dept.id
    for k, name in enumerate(DISTRICTS):
        district = create_agency(f"H{k:02d}", f"UBND {name}", province, AgencyKind.district)
        districts.append(district)
        weights[district.id], names[district.id], kinds[district.id] = 25, district.name, "district"
        for j in range(35):
            commune = create_agency(
                f"H{k:02d}-X{j:02d}",
                f"UBND xã {GIVEN[j % len(GIVEN)]} {j + 1} ({name.split(' ', 1)[1]})",
                district,
                AgencyKind.commune,
            )
            weights[commune.id], names[commune.id], kinds[commune.id] = 1.5, commune.name, "commune"
            parent_of[commune.id] = district.id
    world.agencies = len(weights)
    # -- fields and procedures (Core) --
    fields = [ProcedureField(code=f"F{k:02d}", name=name) for k, name in enumerate(FIELDS)]
    db.session.add_all(fields)
    db.session.flush()
    proc_rows = []
    owners = [a.id for a in departments] + [None] * 5
    for k in range(300):
        owner = owners[k % len(owners)]
        proc_rows.append(
            {
                "code": f"1.{k + 1000:06d}",
                "name": f"{PROC_NAMES[k % len(PROC_NAMES)]} ({k})",
                "field_id": fields[k % len(fields)].id,
                "agency_id": owner,
                "is_active": True,
            }
        )
    db.session.execute(sa.insert(Procedure.__table__), proc_rows)
    procs = db.session.execute(
        sa.select(Procedure.id, Procedure.agency_id, Procedure.field_id)
    ).all()
    world.procedures = len(procs)
    procs_by_agency: dict[int | None, list[tuple[int, int]]] = {}
    for pid, aid, fid in procs:
        procs_by_agency.setdefault(aid, []).append((pid, fid))
    all_procs = [(pid, fid) for pid, _, fid in procs]
    # -- users (argon2 with TestConfig's cheap parameters) --
    coordinator = create_user(
        "dieu.phoi@bench.gov.vn", "Điều phối viên", PASSWORD, Role.coordinator
    )
    world.users["coordinator"] = coordinator.email
    handlers: dict[int, list[int]] = {}
    handler_email: dict[int, str] = {}
    for agency in departments + districts:
        for j in range(2):
            h = create_user(
                f"xu.ly.{agency.code.lower()}.{j}@bench.gov.vn",
                f"{SURNAMES[agency.id % 16]} {MIDDLE[j]} {GIVEN[agency.id % 26]}",
                PASSWORD,
                Role.handler,
                agency,
            )
            handlers.setdefault(agency.id, []).append(h.id)
            handler_email.setdefault(agency.id, h.email)
    db.session.commit()
    world.seconds["agencies, procedures, users"] = time.perf_counter() - t0

    # -- cases, oldest first (ids follow arrival, as in production) --
    t0 = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(TZ).date()
    ages = sorted((rnd.random() * 730 for _ in range(n_cases)), reverse=True)
    agency_ids = list(weights)
    agency_w = list(weights.values())
    parent_of.update({a.id: province.id for a in departments + districts})
    cases_table = FeedbackCase.__table__
    events_table = CaseEvent.__table__
    batch: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    per_agency: Tally[int] = Tally()
    states: Tally[str] = Tally()

    def flush() -> None:
        if batch:
            db.session.execute(sa.insert(cases_table), batch)
            batch.clear()
        if events:
            db.session.execute(sa.insert(events_table), events)
            world.n_events += len(events)
            events.clear()

    for i, age in enumerate(ages, start=1):
        received = now - timedelta(days=age)
        received_day = received.astimezone(TZ).date()
        bucket = "old" if age > 60 else "middle" if age > 20 else "recent"
        state = _choice(rnd, STATE_MIX[bucket])
        early = state in (
            "submitted",
            "screening",
            "needs_info",
            "rejected",
            "redirected_complaint",
        )
        agency_id = None if early and rnd.random() < 0.5 else rnd.choices(agency_ids, agency_w)[0]
        if state == "transferred" and rnd.random() < 0.7:
            agency_id = None  # sent back to the coordinators
        proc = None
        if rnd.random() < 0.7:
            own = procs_by_agency.get(agency_id) or procs_by_agency.get(
                parent_of.get(agency_id or 0)
            )
            proc = rnd.choice(own) if own and rnd.random() < 0.8 else rnd.choice(all_procs)
        assignee = None
        if agency_id is not None and state in PATH and PATH.index(state) >= 3:
            pool = handlers.get(agency_id) or handlers.get(parent_of.get(agency_id, 0), [])
            assignee = rnd.choice(pool) if pool else None
        # the clock of the current step
        progress = PATH.index(state) if state in PATH else 2
        days = STEP_DAYS.get(state, 15)
        window = math.ceil(days * 7 / 5)
        if state in FINAL:
            step_start = received_day + timedelta(days=min(progress * 3, int(age)))
        elif bucket == "old":  # stuck: its step started long ago
            step_start = received_day + timedelta(days=rnd.randint(2, 30))
        else:  # most running steps are within their time, some are late
            late = rnd.random() < 0.15
            elapsed = rnd.randint(window + 1, window + 20) if late else rnd.randint(0, window)
            step_start = max(received_day, today - timedelta(days=elapsed))
        due = None if state in FINAL or state == "needs_info" else _workdays(step_start, days)
        kind = "proposal" if rnd.random() < 0.2 else "report"
        topic = rnd.choice(TOPICS)
        name = f"{rnd.choice(SURNAMES)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
        content = (
            f"Tôi đến {names.get(agency_id or province.id)} để {topic}, nhưng "
            f"{rnd.choice(COMPLAINTS)}. {rnd.choice(COMPLAINTS).capitalize()}. "
            f"{rnd.choice(PROPOSALS)}"
        )
        if kind == "proposal":
            content = f"{rnd.choice(PROPOSALS) or 'Đề nghị cải cách thủ tục.'} {content}"
        channel = _choice(rnd, CHANNELS)

        def at(days: float, received: datetime = received) -> datetime:
            return received + timedelta(days=days)

        batch.append(
            {
                "id": i,
                "code": _code(i, received_day.year),
                "secret_hash": hashlib.sha256(f"bench{i}".encode()).hexdigest(),
                "kind": kind,
                "state": state,
                "channel": channel,
                "procedure_id": proc[0] if proc else None,
                "field_id": proc[1] if proc else None,
                "agency_id": agency_id,
                "assignee_id": assignee,
                "content": content,
                "submitter_name": name,
                "contact_phone": f"09{rnd.randrange(10**8):08d}",
                "contact_email": f"nguoidan{i}@example.vn" if rnd.random() < 0.4 else None,
                "address": f"Thôn {rnd.randint(1, 12)}, {names[rnd.choice(agency_ids)]}",
                "consent_at": received,
                "contact_erased_at": None,
                "response_id": None,
                "created_by_id": coordinator.id if channel in ("paper", "phone", "email") else None,
                "received_at": received,
                "clock_start_on": step_start,
                "clock_days": days,
                "paused_days": 0,
                "paused_since": step_start if state == "needs_info" else None,
                "due_on": due,
                "extension_days": 0,
                "extension_reason": None,
                "public_reason": "Nội dung không thuộc phạm vi phản ánh, kiến nghị."
                if state in ("rejected", "redirected_complaint", "needs_info")
                else None,
                "answer": "Cơ quan đã kiểm tra và chấn chỉnh."
                if progress >= 5 and state in PATH
                else None,
                "public_summary": None,
                "answered_at": at(min(age, 12)) if progress >= 5 and state in PATH else None,
                "approved_at": at(min(age, 14)) if progress >= 6 and state in PATH else None,
                "published_at": at(min(age, 16)) if progress >= 7 and state in PATH else None,
                "closed_at": at(min(age, 30)) if state == "closed" else None,
                "citizen_verdict": "agree" if state == "closed" and rnd.random() < 0.7 else None,
                "updated_at": at(min(age, 5)),
                "version": 1,
            }
        )
        # timeline: received, then up to three of the steps on the way to the current state
        events.append(
            {
                "case_id": i,
                "at": received,
                "action": "submit",
                "actor_id": None,
                "from_state": None,
                "to_state": "submitted",
                "to_agency_id": agency_id,
            }
        )
        steps = PATH[1 : progress + 1] if state in PATH else ["screening", state]
        for n, step in enumerate(steps[-2:], start=1):
            events.append(
                {
                    "case_id": i,
                    "at": at(min(age, n * 2)),
                    "action": "transition",
                    "actor_id": coordinator.id,
                    "from_state": "submitted" if n == 1 else None,
                    "to_state": step,
                    "to_agency_id": agency_id,
                }
            )
        states[state] += 1
        if agency_id is not None:
            per_agency[agency_id] += 1
        if state not in FINAL:
            world.open_cases += 1
            if due is not None and due < today:
                world.overdue += 1
            if agency_id is None:
                world.coordinators_queue += 1
        if SEARCH_TEXT in content:
            world.search_hits += 1
        if len(batch) >= 5000:
            flush()
    flush()
    db.session.commit()
    world.seconds["cases and events"] = time.perf_counter() - t0
    world.n_cases = n_cases
    world.state_counts = dict(states)
    top, top_n = per_agency.most_common(1)[0]
    world.top_agency = (top, names[top], top_n)
    small, small_n = min(((a, n) for a, n in per_agency.items() if n >= 10), key=lambda an: an[1])
    world.small_agency = (small, names[small], small_n)
    # the district whose subtree (with its communes) has the most cases
    best = (0, "", -1, 0)
    for district in districts:
        subtree = [a for a, parent in parent_of.items() if parent == district.id]
        total = per_agency[district.id] + sum(per_agency[a] for a in subtree)
        if total > best[2]:
            best = (district.id, district.name, total, 1 + len(subtree))
    world.district = best
    # a case of the top agency being worked on, for the case page
    world.case_id, world.case_code = db.session.execute(
        sa.select(FeedbackCase.id, FeedbackCase.code)
        .where(FeedbackCase.agency_id == top, FeedbackCase.state == "in_progress")
        .order_by(FeedbackCase.id.desc())
        .limit(1)
    ).one()
    # a handler of that district (subtree scope)
    world.users["district handler"] = handler_email[best[0]]
    return world


def finish_load(database: Database) -> float:
    """What production would have done after such a load (PostgreSQL: autovacuum)."""
    t0 = time.perf_counter()
    if database.kind == "postgresql":
        seq = (
            "SELECT setval(pg_get_serial_sequence('feedback_cases', 'id'), "
            "(SELECT max(id) FROM feedback_cases))"
        )
        db.session.execute(sa.text(seq))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- measuring

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = _CSRF.search(page)
    if token is None:
        raise SystemExit("the login page has no CSRF token")
    reply = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if reply.status_code != 303:
        raise SystemExit(f"login of {email} failed: {reply.status_code}")
    return client


@dataclass
class Statement:
    sql: str
    params: Any


@contextmanager
def capture(engine) -> Iterator[list[Statement]]:
    """The statements the engine sends while the block runs."""
    seen: list[Statement] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(Statement(statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def is_select(st: Statement) -> bool:
    head = st.sql.lstrip().upper()
    return head.startswith("SELECT") and head not in ("SELECT 1",) and "FROM" in head


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Result:
    name: str
    what: str
    median_ms: float
    p95_ms: float
    sql_ms: float | None = None
    statements: int = 0
    note: str = ""
    kind: str = "request"  # or "baseline"
    main_ms: float | None = None  #: the queue (or export) query alone
    counts_ms: float | None = None  #: the per-state counts alone


def export_reps(reps: int) -> int:
    return max(3, reps // 4)


def timed(fn: Callable[[], Any], reps: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


@dataclass
class Op:
    name: str
    who: str
    url: str
    what: str


def operations(world: World) -> list[Op]:
    top_id, _, top_n = world.top_agency
    due = (datetime.now(TZ).date() + timedelta(days=7)).isoformat()
    q = urllib.parse.quote(SEARCH_TEXT)
    c = "coordinator"
    h = "district handler"
    return [
        Op(
            "queue: all",
            c,
            "/staff/feedback/?scope=all",
            "coordinator, every case: first page + counts",
        ),
        Op("queue: state", c, "/staff/feedback/?scope=all&state=in_progress", "state=in_progress"),
        Op(
            "queue: agency",
            c,
            f"/staff/feedback/?scope=all&agency={top_id}",
            f"agency={top_id} ({top_n:,} cases)",
        ),
        Op("queue: overdue", c, "/staff/feedback/?scope=all&overdue=1", "overdue=1"),
        Op(
            "queue: due_before",
            c,
            f"/staff/feedback/?scope=all&due_before={due}",
            f"due_before={due}",
        ),
        Op("queue: text", c, f"/staff/feedback/?scope=all&q={q}", f"q={SEARCH_TEXT}"),
        Op(
            "queue: small agency",
            c,
            f"/staff/feedback/?scope=all&agency={world.small_agency[0]}",
            f"agency={world.small_agency[0]} ({world.small_agency[2]:,} cases)",
        ),
        Op(
            "queue: code",
            c,
            f"/staff/feedback/?scope=all&q={world.case_code}",
            f"q={world.case_code} (one case's code)",
        ),
        Op(
            "queue: no agency",
            c,
            "/staff/feedback/?scope=all&agency=none",
            "coordinators' queue (agency=none)",
        ),
        Op("queue: page 40", c, "/staff/feedback/?scope=all&page=40", "OFFSET 1950"),
        Op(
            "handler queue",
            h,
            "/staff/feedback/",
            f"handler of {world.district[1]} (subtree of {world.district[3]} agencies, "
            f"{world.district[2]:,} cases)",
        ),
        Op("handler: overdue", h, "/staff/feedback/?overdue=1", "handler, overdue=1"),
        Op("case page", c, f"/staff/feedback/{world.case_id}", f"case {world.case_id}"),
        Op(
            "CSV export",
            c,
            f"/staff/feedback/export.csv?scope=all&agency={top_id}",
            f"agency={top_id}: {top_n:,} rows",
        ),
    ]


def measure_requests(
    app, world: World, reps: int, warmup: int, ops: list[Op], keep: dict[str, list[Statement]]
) -> list[Result]:
    clients = {who: login(app, email) for who, email in world.users.items()}
    results = []
    for op in ops:
        client = clients[op.who]

        def get(op=op, client=client):
            reply = client.get(op.url)
            if reply.status_code != 200:
                raise SystemExit(f"{op.url}: HTTP {reply.status_code}")
            return reply

        with app.app_context():
            engine = db.engine
        with capture(engine) as seen:
            reply = get()
        selects = [s for s in seen if is_select(s)]
        keep[op.name] = selects
        # the export takes seconds: fewer repetitions, and the captured request was its warm-up
        exporting = "export" in op.url
        n = export_reps(reps) if exporting else reps
        times = timed(get, n, 0 if exporting else warmup)
        # each SELECT alone, then their sum: the database's share of the request
        parts = main_and_counts(selects)
        per_statement: list[list[float]] = [[] for _ in selects]
        with app.app_context(), db.engine.connect() as conn:
            for k, st in enumerate(selects):

                def run_one(st=st):
                    conn.exec_driver_sql(st.sql, st.params).fetchall()

                per_statement[k] = timed(run_one, min(n, SQL_REPS), 1)
            conn.rollback()
        sql_ms = sum(statistics.median(t) for t in per_statement)
        part_ms = {
            name: statistics.median(per_statement[selects.index(st)]) for name, st in parts.items()
        }
        note = f"{len(reply.data) / 1024:,.0f} KB"
        results.append(
            Result(
                op.name,
                op.what,
                statistics.median(times),
                percentile(times, 0.95),
                sql_ms,
                len(seen),
                note,
                main_ms=part_ms.get("main"),
                counts_ms=part_ms.get("counts"),
            )
        )
        r = results[-1]
        log(
            f"  {op.name:<19} median {r.median_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  "
            f"SQL {r.sql_ms:6.1f} ms (queue query {fmt(r.main_ms)}, counts {fmt(r.counts_ms)})  "
            f"{len(seen)} statements, {note}"
        )
    return results


def measure_baseline(app, reps: int, warmup: int) -> list[Result]:
    out = []
    queries = [
        ("bare SELECT", "SELECT id FROM feedback_cases ORDER BY id LIMIT 50"),
        ("raw count", "SELECT state, count(*) FROM feedback_cases GROUP BY state"),
    ]
    with app.app_context():
        for name, sql in queries:

            def run(sql=sql):
                with db.engine.connect() as conn:
                    conn.exec_driver_sql(sql).fetchall()

            times = timed(run, reps, warmup)
            out.append(
                Result(
                    name,
                    f"`{sql}`",
                    statistics.median(times),
                    percentile(times, 0.95),
                    kind="baseline",
                )
            )
            log(f"  {name:<20} median {out[-1].median_ms:8.1f} ms  p95 {out[-1].p95_ms:8.1f} ms")
    return out


def explain(app, kind: str, st: Statement) -> str:
    with app.app_context(), db.engine.connect() as conn:
        if kind == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + st.sql, st.params).all()
            text = "\n".join(r[0] for r in rows)
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + st.sql, st.params).all()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            text = "\n".join(lines)
        conn.rollback()
    return text


def main_and_counts(selects: list[Statement]) -> dict[str, Statement]:
    out = {}
    for st in selects:
        sql = st.sql.upper()
        if "COUNT(*)" in sql and "GROUP BY" in sql and "counts" not in out:
            out["counts"] = st
        elif (
            "FROM FEEDBACK_CASES" in sql
            and ("LIMIT" in sql or "ORDER BY FEEDBACK_CASES.ID" in sql)
            and "main" not in out
        ):
            out["main"] = st
    return out


def inline(st: Statement) -> str:
    """The statement with its parameters, for reading (not for running)."""
    sql = st.sql
    params = st.params
    if isinstance(params, dict):
        for key, value in params.items():
            sql = sql.replace(
                f"%({key})s", repr(str(value)) if not isinstance(value, int) else str(value)
            )
    elif params:
        for value in params:
            sql = sql.replace(
                "?", repr(str(value)) if not isinstance(value, int) else str(value), 1
            )
    return re.sub(r"\s+", " ", sql)


def plan_notes(kind: str, plan: str) -> list[str]:
    notes = []
    if kind == "sqlite":
        # the plan itself, short enough, without the primary-key look-ups of the joined rows
        for line in plan.splitlines():
            line = line.strip()
            if not re.match(
                r"SEARCH (procedures_1|agencies_1|users_1) USING INTEGER PRIMARY", line
            ):
                notes.append(f"`{line}`")
    else:
        # the small tables (procedures, users, agencies) are read whole on purpose
        for m in re.finditer(r"Seq Scan on (feedback_cases)\b", plan):
            notes.append(f"Seq Scan on {m.group(1)}")
        for m in re.finditer(
            r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)", plan
        ):
            if not m.group(2).startswith(("pk_agencies", "pk_procedures", "pk_users")):
                notes.append(f"{m.group(1)} {m.group(2)}")
        m = re.search(r"Sort Method: ([^\n]+)", plan)
        if m:
            notes.append(f"sort: {m.group(1).strip()}")
        m = re.search(r"Execution Time: ([\d.]+) ms", plan)
        if m:
            notes.append(f"execution {m.group(1)} ms")
    seen, out = set(), []
    for n in notes:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


EXPLAIN_OPS = [
    "queue: all",
    "queue: overdue",
    "queue: text",
    "queue: code",
    "handler queue",
    "CSV export",
]


@dataclass
class RunResult:
    database: str
    describe: str
    world: World
    load_seconds: dict[str, float]
    baseline: list[Result]
    requests: list[Result]
    plans: dict[str, dict[str, tuple[str, str]]]  # op -> main/counts -> (sql, plan)
    candidates: list[Result] = field(default_factory=list)
    candidate_plans: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    candidate_ddl: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)


def collect_plans(app, kind: str, statements: dict[str, list[Statement]]) -> dict:
    plans: dict[str, dict[str, tuple[str, str]]] = {}
    for op in EXPLAIN_OPS:
        picked = main_and_counts(statements.get(op, []))
        plans[op] = {part: (inline(st), explain(app, kind, st)) for part, st in picked.items()}
    return plans


def index_columns(ix: dict[str, Any]) -> list[str]:
    expressions = ix.get("expressions") or ix["column_names"]
    return [c or e for c, e in zip(ix["column_names"], expressions, strict=False)]


def run_database(database: Database, args: argparse.Namespace) -> RunResult:
    log(f"\n== {database.label}")
    database.create()
    instance = Path(tempfile.mkdtemp(prefix="hailong_bench_q_instance_"))
    try:

        class BenchConfig(TestConfig):
            SQLALCHEMY_DATABASE_URI = database.url
            ATTACHMENT_DIR = str(instance / "attachments")

        app = create_app(BenchConfig)
        app.instance_path = str(instance)
        load: dict[str, float] = {}
        with app.app_context():
            t0 = time.perf_counter()
            upgrade()
            load["migrations"] = time.perf_counter() - t0
            indexes = [
                f"{ix['name']} ({', '.join(index_columns(ix))})"
                for ix in sa.inspect(db.engine).get_indexes("feedback_cases")
            ]
            world = seed(args.cases, random.Random(args.seed))
            load.update(world.seconds)
            load["VACUUM ANALYZE" if database.kind == "postgresql" else "finish"] = finish_load(
                database
            )
            db.session.remove()
        log(
            f"  loaded {world.n_cases:,} cases, {world.n_events:,} events, "
            f"{world.agencies} agencies in {sum(load.values()):.1f} s ({seconds(load)})"
        )
        log(
            f"  open {world.open_cases:,}, overdue {world.overdue:,}, coordinators' queue "
            f"{world.coordinators_queue:,}, '{SEARCH_TEXT}' in {world.search_hits:,}"
        )
        # the load left millions of objects behind; a server process would not carry them
        gc.collect()
        gc.freeze()
        baseline = measure_baseline(app, args.reps, args.warmup)
        statements: dict[str, list[Statement]] = {}
        ops = operations(world)
        requests = measure_requests(app, world, args.reps, args.warmup, ops, statements)
        plans = collect_plans(app, database.kind, statements)
        result = RunResult(
            database.label,
            database.describe(),
            world,
            load,
            baseline,
            requests,
            plans,
            indexes=indexes,
        )
        if args.candidates:
            log("  -- with candidate indexes (not in the migrations)")
            with app.app_context():
                if database.kind == "postgresql":
                    with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    ) as conn:
                        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                with db.engine.begin() as conn:
                    for _name, dialects, ddl in CANDIDATES:
                        if database.kind in dialects:
                            t0 = time.perf_counter()
                            conn.exec_driver_sql(ddl)
                            result.candidate_ddl.append(
                                f"{ddl};  -- {time.perf_counter() - t0:.1f} s"
                            )
                if database.kind == "postgresql":
                    with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    ) as conn:
                        conn.exec_driver_sql("ANALYZE feedback_cases")
                db.engine.dispose()
            cand_statements: dict[str, list[Statement]] = {}
            result.candidates = measure_requests(
                app,
                world,
                args.reps,
                args.warmup,
                [op for op in ops if op.name != "case page"],
                cand_statements,
            )
            result.candidate_plans = collect_plans(app, database.kind, cand_statements)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return result
    finally:
        if args.keep:
            log(f"  kept {database.url}")
        else:
            database.drop()
        shutil.rmtree(instance, ignore_errors=True)


# --------------------------------------------------------------------------- report


def seconds(parts: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in parts.items())


def fmt(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


START = "<!-- feedback_queue.py: results start (generated; edits inside are overwritten) -->"
END = "<!-- feedback_queue.py: results end -->"
HEADER = """# Staff feedback dashboard benchmark

`bench/feedback_queue.py` times the staff queue (`/staff/feedback/`), its filters, a case page
and a CSV export on a throwaway database of 200,000 cases, with the Flask test client in one
process. It is a benchmark, not a test. Run it with

```sh
.venv/bin/python bench/feedback_queue.py                  # 200,000 cases, SQLite and PostgreSQL
.venv/bin/python bench/feedback_queue.py --db sqlite --cases 50000 --reps 10
.venv/bin/python bench/feedback_queue.py --no-candidates  # skip the round with candidate indexes
```

PostgreSQL must accept `postgres` without a password on 127.0.0.1:5432; the script creates and
drops `hailong_bench_q_<pid>`. It rewrites the generated part of this file (`--md -` to skip).

"""


def generated(runs: list[RunResult], args: argparse.Namespace, elapsed: float) -> str:
    out: list[str] = []
    w = runs[0].world
    out.append(
        f"## Figures\n\n`python bench/feedback_queue.py {' '.join(sys.argv[1:])}`".rstrip()
        + f" — {datetime.now(TZ):%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{LOADAVG[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (other "
        f"processes share the machine); {elapsed:.0f} s in all.\n"
    )
    for r in runs:
        out.append(
            f"* {r.describe}: loaded in {sum(r.load_seconds.values()):.0f} s "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in r.load_seconds.items())}). "
            f"Indexes on feedback_cases from the migrations: {', '.join(r.indexes)}."
        )
    out.append("")
    states = ", ".join(
        f"{k} {v:,}" for k, v in sorted(w.state_counts.items(), key=lambda kv: -kv[1])
    )
    out.append(
        f"Data: {w.n_cases:,} cases received over two years, {w.n_events:,} timeline events, "
        f"{w.agencies} agencies (province, 25 departments with 2 sub-units each, 12 districts "
        f"with 35 communes each), {w.procedures} procedures. States: {states}. Open "
        f"{w.open_cases:,}, of which overdue {w.overdue:,}; in the coordinators' queue "
        f"(no agency) {w.coordinators_queue:,}. The text `{SEARCH_TEXT}` is in "
        f"{w.search_hits:,} cases.\n"
    )
    out.append(
        f"Times in ms: median and p95 of {args.reps} requests after {args.warmup} warm-up "
        f"ones (the export: {export_reps(args.reps)} after 1), each a whole request through "
        "the app (session, queries, ORM, template) without a web server. *SQL*: the SELECTs "
        "the request sent, each re-run alone through the same engine (median of up to 10), summed; "
        "*queue q.* and *counts*: the page's main query and its per-state count among them. "
        "*Stmts*: statements the request sent (with the user load and, for the case page "
        "and the export, the audit-log INSERT).\n"
    )
    head, rule = "| Operation | What |", "|---|---|"
    for r in runs:
        head += f" {r.database} median | p95 | SQL | queue q. | counts | Stmts |"
        rule += "---:|---:|---:|---:|---:|---:|"
    out += [head, rule]
    for i, b0 in enumerate(runs[0].baseline):
        row = f"| *baseline: {b0.name}* | {b0.what} |"
        for r in runs:
            b = r.baseline[i]
            row += f" *{fmt(b.median_ms)}* | *{fmt(b.p95_ms)}* | | | | |"
        out.append(row)
    for i, req in enumerate(runs[0].requests):
        row = f"| {req.name} | {req.what} |"
        for r in runs:
            x = r.requests[i]
            row += (
                f" **{fmt(x.median_ms)}** | {fmt(x.p95_ms)} | {fmt(x.sql_ms)} | {fmt(x.main_ms)} "
                f"| {fmt(x.counts_ms)} | {x.statements} |"
            )
        out.append(row)
    out.append("")
    for r in runs:
        slow = sorted(r.requests, key=lambda x: -x.median_ms)[:4]
        out.append(
            f"Slowest on {r.database}: "
            + "; ".join(f"{x.name} {fmt(x.median_ms)} ms (SQL {fmt(x.sql_ms)})" for x in slow)
            + f". Baseline: bare SELECT {fmt(r.baseline[0].median_ms)} ms, raw count "
            f"{fmt(r.baseline[1].median_ms)} ms.\n"
        )
    if any(r.candidates for r in runs):
        out.append("### With the candidate indexes (not in the migrations)\n")
        for r in runs:
            if not r.candidates:
                continue
            out.append(f"{r.database}, after\n\n```sql\n" + "\n".join(r.candidate_ddl) + "\n```\n")
            out.append(
                "| Operation | median before | median after | p95 after | SQL before → after "
                "| queue q. before → after |"
            )
            out.append("|---|---:|---:|---:|---:|---:|")
            before = {x.name: x for x in r.requests}
            for x in r.candidates:
                b = before[x.name]
                out.append(
                    f"| {x.name} | {fmt(b.median_ms)} | **{fmt(x.median_ms)}** | "
                    f"{fmt(x.p95_ms)} | {fmt(b.sql_ms)} → {fmt(x.sql_ms)} | "
                    f"{fmt(b.main_ms)} → {fmt(x.main_ms)} |"
                )
            out.append("")
    out.append("## Query plans\n")
    out.append(
        "The queue's main query (first page: `ORDER BY due_on IS NULL, due_on, id LIMIT 51`, "
        "agency, procedure and assignee joined) and its per-state counts, as the app sent them "
        "in this run. SQLite: `EXPLAIN QUERY PLAN`; PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS)`.\n"
    )
    for r in runs:
        for title, plans in (("", r.plans), (", with the candidate indexes", r.candidate_plans)):
            if not plans:
                continue
            out.append(f"### {r.database}{title}\n")
            for op, parts in plans.items():
                for part, (sql, plan) in parts.items():
                    notes = plan_notes("sqlite" if r.database == "SQLite" else "postgresql", plan)
                    out.append(
                        f"**{op}, {'queue query' if part == 'main' else 'counts'}**: "
                        + "; ".join(notes)
                        + "\n"
                    )
                    out.append("<details><summary>SQL and plan</summary>\n")
                    out.append(f"```sql\n{sql}\n```\n\n```\n{plan}\n```\n</details>\n")
    return "\n".join(out)


def write_markdown(path: Path, block: str) -> None:
    """Replace the generated block of ``path``, keeping what was written around it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
    else:
        before, after = HEADER, "\n"
    path.write_text(f"{before}{START}\n\n{block}\n\n{END}{after}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument(
        "--no-candidates",
        dest="candidates",
        action="store_false",
        help="skip the second round with the candidate indexes",
    )
    parser.add_argument("--md", default=str(DEFAULT_MD), help="Markdown report ('-' for none)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database afterwards (to study it; drop it yourself)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    LOADAVG[:] = os.getloadavg()
    databases: list[Database] = []
    if args.db in ("sqlite", "both"):
        databases.append(SqliteDatabase())
    if args.db in ("postgres", "both"):
        databases.append(PostgresDatabase())
    runs = [run_database(d, args) for d in databases]
    block = generated(runs, args, time.perf_counter() - started)
    print("\n" + block.split("## Query plans")[0])
    for r in runs:
        for title, plans in (("", r.plans), (", with the candidate indexes", r.candidate_plans)):
            if plans:
                print(f"## Plans, {r.database}{title}")
            for op, parts in plans.items():
                for part, (_, plan) in parts.items():
                    print(f"\n-- {op}, {part}\n{plan}")
    if args.md != "-":
        write_markdown(Path(args.md), block)
        log(f"\nwrote {args.md}")


if __name__ == "__main__":
    main()
