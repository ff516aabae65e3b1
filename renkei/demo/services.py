"""The demo data set: demo users, one per role, and ``demo_seed`` that fills the funnel.

``demo_seed`` generates rows in blocks (``people.py``) and bulk-inserts them (``writer.py``):
no model instance and no query per row, so a million contacts and ten million events take
minutes, not hours. The same seed and end date always give the same data.
"""

import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import date, datetime
from datetime import time as clock_time

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction

from renkei.accounts.roles import ADMIN, MANAGER, MARKETING, SALES, VIEWER
from renkei.accounts.services import audit_record, user_set_role
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Company, Contact, ContactScore, LifecycleTransition
from renkei.demo import pipeline
from renkei.demo.capture import demo_capture_ensure
from renkei.demo.deals import demo_deals_ensure
from renkei.demo.people import (
    CONTACT_COLUMNS,
    EVENT_COLUMNS,
    SCORE_COLUMNS,
    TRANSITION_COLUMNS,
    VISITOR_COLUMNS,
    Actors,
    Block,
    PeopleGenerator,
    PropertyPools,
)
from renkei.demo.sales import demo_handoff_ensure, demo_sales_setup_ensure
from renkei.demo.scoring import demo_scoring_ensure, demo_sla_ensure
from renkei.demo.world import (
    CAMPAIGN_COLUMNS,
    COMPANY_COLUMNS,
    JST,
    Calendar,
    build_campaigns,
    build_companies,
)
from renkei.demo.writer import BulkWriter
from renkei.events.models import Event, Visitor

DEMO_PASSWORD = "renkei-demo"  # noqa: S105 (the published demo password)
DEMO_EMAIL_DOMAIN = "renkei-demo.example"
# (username, role, family name, given name): one login per role, four sales reps (two
# teams: renkei.demo.sales).
DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("admin", ADMIN, "高橋", "誠"),
    ("manager", MANAGER, "佐々木", "浩"),
    ("marketing", MARKETING, "中村", "美咲"),
    ("sales1", SALES, "田中", "翔太"),
    ("sales2", SALES, "鈴木", "彩"),
    ("sales3", SALES, "山本", "大輔"),
    ("sales4", SALES, "伊藤", "由美"),
    ("viewer", VIEWER, "小林", "直樹"),
)
CONTACTS_PER_COMPANY = 8
BLOCK = 5_000
# From this size the seed generates in a child process and builds indexes at the end.
BULK_LOAD_FROM = 20_000
# Tables whose secondary indexes a bulk load builds once at the end.
INDEXED = (Contact, ContactScore, LifecycleTransition, Event)


class DemoDataExists(Exception):
    """The database already has contacts and the caller did not ask to add to them."""


@dataclass
class SeedSummary:
    companies: int = 0
    campaigns: int = 0
    contacts: int = 0
    transitions: int = 0
    visitors: int = 0
    events: int = 0
    assignments: int = 0
    deals: int = 0
    seconds: float = 0.0


@transaction.atomic
def demo_users_ensure() -> list[tuple[str, str, bool]]:
    """Create the missing demo users (username, role, created). Existing users are left
    as they are: their password or role may have been changed on purpose."""
    existing = set(
        User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    hashed = make_password(DEMO_PASSWORD) if len(existing) < len(DEMO_USERS) else ""
    out = []
    for username, role, family, given in DEMO_USERS:
        if username in existing:
            out.append((username, role, False))
            continue
        user = User(
            username=username,
            first_name=given,
            last_name=family,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            is_staff=role == ADMIN,
            is_superuser=role == ADMIN,
            password=hashed,  # one hash for all: six PBKDF2 rounds would dominate small seeds
        )
        user.save()
        user_set_role(user=user, role=role, actor=None)
        out.append((username, role, True))
    return out


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, full name) of the demo users that exist."""
    found = {u.username: u for u in User.objects.filter(username__in=[d[0] for d in DEMO_USERS])}
    return [
        (name, role, f"{found[name].last_name} {found[name].first_name}".strip())
        for name, role, _, _ in DEMO_USERS
        if name in found
    ]


def _actors() -> Actors:
    ids = dict(
        User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).values_list("username", "id")
    )
    sales = [ids[u[0]] for u in DEMO_USERS if u[1] == SALES and u[0] in ids]
    return Actors(marketing_id=ids.get("marketing"), sales_ids=sales)


def _taken_domains() -> set[str]:
    """Domains already in use, so an additive seed never collides with existing rows."""
    domains = set(Company.objects.exclude(domain="").values_list("domain", flat=True))
    emails = Contact.objects.values_list("email_normalized", flat=True)
    domains.update(e.rpartition("@")[2] for e in emails.iterator(chunk_size=20_000))
    return domains


def demo_seed(
    *,
    contacts: int,
    seed: int,
    until: date | None = None,
    events_per_contact: float = 10.0,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    bulk_load: bool | None = None,
) -> SeedSummary:
    """Generate and insert the demo data set; refuse a database with contacts unless
    ``force`` (then the data set is added to what is there).

    ``progress`` is called with the number of contacts written after each block.
    ``bulk_load`` (default: for large seeds) generates in a child process and builds the
    secondary indexes once at the end.
    """
    if contacts < 1:
        raise ValueError("contacts must be at least 1")
    if not force and Contact.objects.exists():
        raise DemoDataExists(f"the database already has {Contact.objects.count()} contacts")
    if bulk_load is None:
        bulk_load = contacts >= BULK_LOAD_FROM and not connection.in_atomic_block
    started = time.perf_counter()
    until = until or datetime.now(JST).date()
    writer = BulkWriter()
    writer.indexes_repair(*INDEXED)
    demo_users_ensure()
    summary = SeedSummary()
    with writer.fast_session():
        first_contact = writer.max_id(Contact) + 1
        taken = _taken_domains() if first_contact > 1 or Company.objects.exists() else set()
        generator = _world(
            writer,
            summary,
            seed=seed,
            contacts=contacts,
            first_contact=first_contact,
            until=until,
            events_per_contact=events_per_contact,
            taken_domains=taken,
        )
        plan = _BlockPlan(generator, seed, first_contact, writer.max_id(Visitor) + 1, contacts)
        indexes = writer.deferred_indexes(*INDEXED) if bulk_load else nullcontext()
        with indexes:
            for block in pipeline.blocks(plan.make, plan.starts, background=bulk_load):
                _insert_block(writer, block, summary)
                if progress:
                    progress(len(block.contacts))
        writer.reset_sequences(Company, Campaign, Contact, Visitor)
        _analyze()
    demo_capture_ensure(seed=seed)
    demo_scoring_ensure()
    demo_sla_ensure()
    _sales(summary, seed=seed, first_contact=first_contact, until=until)
    summary.seconds = round(time.perf_counter() - started, 2)
    audit_record(
        actor=None,
        action="demo.seed",
        object_type="demo",
        object_id=None,
        changes={k: [None, val] for k, val in asdict(summary).items()},
        reason=f"seed_demo --contacts {contacts} --seed {seed} --until {until}",
    )
    return summary


class _BlockPlan:
    """Which contacts each block holds and which ids it uses.

    Visitor ids are handed out in order, so blocks must be made in order (the pipeline
    keeps it); each block's randomness depends only on the seed and its first contact.
    """

    def __init__(
        self,
        generator: PeopleGenerator,
        seed: int,
        first_contact: int,
        first_visitor: int,
        contacts: int,
    ) -> None:
        self.generator, self.seed, self.first_contact = generator, seed, first_contact
        self.next_visitor = first_visitor
        self.contacts = contacts
        self.starts = list(range(0, contacts, BLOCK))

    def make(self, start: int) -> Block:
        rng = random.Random(f"renkei-demo:{self.seed}:{self.first_contact}:{start}")
        block = self.generator.block(
            rng,
            first_contact_id=self.first_contact + start,
            count=min(BLOCK, self.contacts - start),
            first_visitor_id=self.next_visitor,
        )
        self.next_visitor += len(block.visitors)
        return block


def _insert_block(writer: BulkWriter, block: Block, summary: SeedSummary) -> None:
    with transaction.atomic():
        writer.insert(Contact, CONTACT_COLUMNS, block.contacts)
        writer.insert(ContactScore, SCORE_COLUMNS, block.scores)
        writer.insert(LifecycleTransition, TRANSITION_COLUMNS, block.transitions)
        writer.insert(Visitor, VISITOR_COLUMNS, block.visitors)
        writer.insert(Event, EVENT_COLUMNS, block.events)
    summary.contacts += len(block.contacts)
    summary.transitions += len(block.transitions)
    summary.visitors += len(block.visitors)
    summary.events += len(block.events)


def _world(
    writer: BulkWriter,
    summary: SeedSummary,
    *,
    seed: int,
    contacts: int,
    first_contact: int,
    until: date,
    events_per_contact: float,
    taken_domains: set[str],
) -> PeopleGenerator:
    """Insert the companies and campaigns and return the generator of contacts."""
    rng = random.Random(f"renkei-demo:{seed}:{first_contact}:world")
    calendar = Calendar.ending(until)
    actors = _actors()
    campaigns = build_campaigns(
        rng, first_id=writer.max_id(Campaign) + 1, calendar=calendar, fmt=writer.fmt
    )
    companies = build_companies(
        rng,
        count=max(3, round(contacts / CONTACTS_PER_COMPANY)),
        first_id=writer.max_id(Company) + 1,
        calendar=calendar,
        fmt=writer.fmt,
        sales_ids=actors.sales_ids,
        taken_domains=taken_domains,
    )
    with transaction.atomic():
        writer.insert(Campaign, CAMPAIGN_COLUMNS, campaigns.rows)
        writer.insert(Company, COMPANY_COLUMNS, companies.rows)
    summary.campaigns, summary.companies = len(campaigns.rows), len(companies.rows)
    return PeopleGenerator(
        calendar=calendar,
        fmt=writer.fmt,
        companies=companies,
        campaigns=campaigns,
        actors=actors,
        pools=PropertyPools(rng, campaigns),
        events_per_contact=events_per_contact,
        taken_emails=set(),
    )


def _sales(summary: SeedSummary, *, seed: int, first_contact: int, until: date) -> None:
    """Teams, routing rules, hand-offs with their SLA clocks, and deals: bounded (a few
    thousand rows at most) and only for this run's contacts."""
    demo_sales_setup_ensure()
    until_at = datetime.combine(until, clock_time(0), tzinfo=JST)  # the seeded year ends here
    handoff = demo_handoff_ensure(seed=seed, first_contact_id=first_contact, until_at=until_at)
    summary.assignments = handoff.assignments
    summary.events += handoff.touches
    summary.deals = demo_deals_ensure(seed=seed, first_contact_id=first_contact, until_at=until_at)


def _analyze() -> None:
    """Fresh planner statistics: the list pages' index choice depends on them at 1M rows."""
    tables = [m._meta.db_table for m in (Company, Contact, LifecycleTransition, Visitor, Event)]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=1000")  # sampled: seconds, not minutes
            for table in tables:
                cursor.execute(f'ANALYZE "{table}"')
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(f'"{t}"' for t in tables))
