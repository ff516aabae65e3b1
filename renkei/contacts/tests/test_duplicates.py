"""Duplicates: the match keys, the groups per reason, the page, and merging from it."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.accounts.models import AuditEntry
from renkei.contacts.duplicates import duplicate_groups, email_match_key
from renkei.contacts.models import Company, Contact, LifecycleStage, LifecycleTransition
from renkei.contacts.services import company_upsert, contact_change_stage, contact_upsert
from renkei.contacts.services.merge import company_merge
from renkei.events.models import Event
from renkei.events.services import event_record_one
from renkei.lib.japanese import normalize_company_name

PAGE = reverse("contacts:duplicates")
MERGE = reverse("contacts:duplicates_merge")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _contact(email: str, **data: Any) -> Contact:
    contact, _ = contact_upsert(email=email, actor=None, **data)
    return contact


def _company(name: str, **data: Any) -> Company:
    """A company written as an old import might have: no dedupe on the way in."""
    return Company.objects.create(name=name, name_normalized=normalize_company_name(name), **data)


def _keys(reason: str, **kwargs: Any) -> list[set[int]]:
    groups, _next = duplicate_groups(reason, **kwargs)
    return [{m.pk for m in g.members} for g in groups]


# ---- email_match_key ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("taro+expo2026@sakura.co.jp", "taro@sakura.co.jp"),
        ("taro+a+b@sakura.co.jp", "taro@sakura.co.jp"),
        ("taro@sakura.co.jp", "taro@sakura.co.jp"),
        ("t.aro@sakura.co.jp", "t.aro@sakura.co.jp"),  # dots matter outside Gmail
        ("ta.ro+news@gmail.com", "taro@gmail.com"),
        ("ta.ro@googlemail.com", "taro@gmail.com"),
        ("+only@sakura.co.jp", "+only@sakura.co.jp"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_email_match_key(email: str, key: str) -> None:
    assert email_match_key(email) == key


# ---- groups per reason ----------------------------------------------------------------


@pytest.mark.django_db
def test_same_mailbox_groups_plus_tags_and_gmail_dots() -> None:
    plain = _contact("taro@sakura.co.jp")
    tagged = _contact("taro+expo@sakura.co.jp")
    tagged2 = _contact("taro+web@sakura.co.jp")
    gmail = _contact("hanako.sato@gmail.com")
    googlemail = _contact("hanakosato@googlemail.com")
    _contact("jiro@sakura.co.jp")
    _contact("j.iro@sakura.co.jp")  # not Gmail: a different mailbox
    groups, _next = duplicate_groups("email")
    assert [{m.pk for m in g.members} for g in groups] == [
        {gmail.pk, googlemail.pk},  # key hanakosato@gmail.com sorts first
        {plain.pk, tagged.pk, tagged2.pk},
    ]
    assert groups[0].reason_label
    assert groups[0].kind == "contact"


@pytest.mark.django_db
def test_same_name_at_the_same_company() -> None:
    a = _contact(
        "t.yamada@sakura.co.jp", family_name="山田", given_name="太郎", company_name="さくら"
    )
    b = _contact(
        "yamada@sakura.co.jp", family_name="山田", given_name="太郎", company_name="㈱さくら"
    )
    _contact("taro@other.jp", family_name="山田", given_name="太郎", company_name="もみじ")
    _contact("hanako@sakura.co.jp", family_name="山田", given_name="花子", company_name="さくら")
    # Width does not matter: names are stored NFKC, so ＹＡＭＡＤＡ is YAMADA.
    c = _contact(
        "y1@sakura.co.jp", family_name="ＹＡＭＡＤＡ", given_name="Ken", company_name="さくら"
    )
    d = _contact("y2@sakura.co.jp", family_name="YAMADA", given_name="Ken", company_name="さくら")
    assert sorted(_keys("name"), key=min) == sorted([{a.pk, b.pk}, {c.pk, d.pk}], key=min)


@pytest.mark.django_db
def test_same_phone_but_not_a_switchboard() -> None:
    a = _contact("a@one.jp", phone="03-1234-5678")
    b = _contact("b@two.jp", phone="+81 3 1234 5678")
    company, _ = company_upsert(actor=None, name="代表商事", phone="06-1111-2222")
    _contact("c@daihyo.jp", phone="06-1111-2222", company_name="代表商事")
    _contact("d@daihyo.jp", phone="06-1111-2222", company_name="代表商事")
    for i in range(4):  # one number on four people: a shared line, not a person
        _contact(f"shared{i}@x.jp", phone="045-000-0001")
    assert company.phone == "+81611112222"
    assert _keys("phone") == [{a.pk, b.pk}]


@pytest.mark.django_db
def test_company_name_variants_are_grouped() -> None:
    names = ["株式会社さくら", "㈱さくら", "(株)さくら", "さくら（株）", "株式会社　さくら"]
    companies = [_company(n) for n in names]
    _company("さくら商事")
    full_width = [_company("ＡＢＣ株式会社"), _company("abc Co., Ltd.", domain="abc.com")]
    groups, _next = duplicate_groups("company_name")
    assert [{m.pk for m in g.members} for g in groups] == [
        {c.pk for c in full_width},  # key "abc" sorts before "さくら"
        {c.pk for c in companies},
    ]
    assert groups[0].kind == "company"


@pytest.mark.django_db
def test_the_company_service_keeps_variants_apart_only_by_domain() -> None:
    """company_upsert folds name variants into one company; two arrive only with two
    domains (which may well be one company, hence the list)."""
    one, _ = company_upsert(actor=None, name="株式会社さくら", domain="sakura.co.jp")
    two, _ = company_upsert(actor=None, name="㈱さくら", domain="sakura.jp")
    three, created = company_upsert(actor=None, name="さくら(株)")
    assert not created and three.pk == one.pk
    assert _keys("company_name") == [{one.pk, two.pk}]


@pytest.mark.django_db
def test_company_domains_differing_by_www() -> None:
    a = _company("さくら", domain="sakura.co.jp")
    b = _company("Sakura Inc.", domain="www.sakura.co.jp")
    _company("もみじ", domain="www.momiji.jp")
    assert _keys("company_domain") == [{a.pk, b.pk}]


@pytest.mark.django_db
def test_groups_are_paged_by_key() -> None:
    for i in range(5):
        _company(f"株式会社テスト{i}")
        _company(f"テスト{i}㈱")
    first, after = duplicate_groups("company_name", limit=2)
    assert len(first) == 2 and after == first[-1].key
    second, after2 = duplicate_groups("company_name", after=after, limit=2)
    third, after3 = duplicate_groups("company_name", after=after2, limit=2)
    keys = [g.key for g in first + second + third]
    assert keys == sorted(keys) and len(set(keys)) == 5
    assert after3 is None


@pytest.mark.django_db
def test_name_groups_page_through_a_json_key_and_ignore_a_damaged_one() -> None:
    for i in range(3):
        _contact(f"a{i}@x.jp", family_name="佐藤", given_name=f"{i}郎", company_name="X")
        _contact(f"b{i}@x.jp", family_name="佐藤", given_name=f"{i}郎", company_name="X")
    first, after = duplicate_groups("name", limit=2)
    rest, end = duplicate_groups("name", after=after, limit=2)
    assert len(first) == 2 and len(rest) == 1 and end is None
    assert len(duplicate_groups("name", after="not json")[0]) == 3


# ---- the page -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "sales_rep"])
def test_the_page_needs_a_merge_permission(request: pytest.FixtureRequest, role: str) -> None:
    user = request.getfixturevalue(role)
    assert _client(user).get(PAGE).status_code == 403
    assert _client(user).post(MERGE, {"reason": "email"}).status_code == 403


def test_anonymous_visitor_is_sent_to_login(db: Any) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_company_reasons_need_merge_company(db: Any) -> None:
    user = User.objects.create_user("merger", password="x")
    user.user_permissions.add(Permission.objects.get(codename="merge_contact"))
    client = _client(user)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert [r for r, _label in response.context["tabs"]] == ["email", "name", "phone"]
    assert client.get(PAGE, {"reason": "company_name"}).status_code == 403
    a, b = _company("株式会社さくら"), _company("㈱さくら")
    posted = {"reason": "company_name", "members": [a.pk, b.pk], "keep": a.pk, "confirm": "1"}
    assert client.post(MERGE, posted).status_code == 403
    assert Company.objects.filter(pk=b.pk).exists()


def test_unknown_reason_is_a_400(marketer: User) -> None:
    assert _client(marketer).get(PAGE, {"reason": "shoe_size"}).status_code == 400


def test_the_page_lists_groups_with_escaped_names(marketer: User) -> None:
    _contact("taro@sakura.co.jp", family_name="<script>alert(1)</script>")
    _contact("taro+x@sakura.co.jp")
    response = _client(marketer).get(PAGE, {"reason": "email"})
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["groups"]) == 1
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html
    assert 'name="keep"' in html


def test_contacts_and_companies_lists_link_to_the_page(marketer: User, sales_rep: User) -> None:
    for url in (reverse("contacts:list"), reverse("contacts:company_list")):
        assert PAGE in _client(marketer).get(url).content.decode()
        assert PAGE not in _client(sales_rep).get(url).content.decode()


# ---- merging from the page ------------------------------------------------------------


@pytest.fixture
def pair(marketer: User) -> tuple[Contact, Contact]:
    """One person twice: a +tag address from a trade show, each with events and stages."""
    keep = _contact(
        "taro@sakura.co.jp", family_name="山田", given_name="太郎", lifecycle_stage="lead"
    )
    other = _contact(
        "taro+expo@sakura.co.jp",
        phone="03-1234-5678",
        company_name="株式会社さくら",
        lifecycle_stage="lead",
    )
    contact_change_stage(contact=other, to_stage=LifecycleStage.MQL, actor=marketer, reason="")
    event_record_one(contact=keep, type="note", properties={"body": "a"}, actor=marketer)
    event_record_one(contact=other, type="call", properties={"body": "b"}, actor=marketer)
    return keep, other


def test_merge_asks_for_confirmation_first(marketer: User, pair: tuple[Contact, Contact]) -> None:
    keep, other = pair
    posted = {"reason": "email", "members": [keep.pk, other.pk], "keep": keep.pk}
    response = _client(marketer).post(MERGE, posted)
    assert response.status_code == 200
    assert 'id="merge-confirm"' in response.content.decode()
    assert Contact.objects.filter(pk=other.pk).exists()


def test_merge_from_the_page_keeps_both_histories(
    marketer: User, pair: tuple[Contact, Contact]
) -> None:
    keep, other = pair
    keep_transitions = set(
        LifecycleTransition.objects.filter(contact=keep).values_list("pk", flat=True)
    )
    other_transitions = set(
        LifecycleTransition.objects.filter(contact=other).values_list("pk", flat=True)
    )
    posted = {"reason": "email", "members": [keep.pk, other.pk], "keep": keep.pk, "confirm": "1"}
    response = _client(marketer).post(MERGE, posted, follow=True)
    assert response.redirect_chain[-1][0] == f"{PAGE}?reason=email"
    assert any("1" in str(m) for m in response.context["messages"])
    assert not Contact.objects.filter(pk=other.pk).exists()
    keep.refresh_from_db()
    assert set(Event.objects.filter(contact=keep).values_list("type", flat=True)) >= {
        "note",
        "call",
    }
    transitions = set(LifecycleTransition.objects.filter(contact=keep).values_list("pk", flat=True))
    assert keep_transitions | other_transitions <= transitions
    assert keep.lifecycle_stage == LifecycleStage.MQL  # the further stage of the two
    assert keep.phone == "+81312345678"  # filled from the other
    assert keep.company is not None and keep.company.name == "株式会社さくら"
    assert AuditEntry.objects.filter(action="contact.merge", object_id=keep.pk).exists()
    assert response.context["groups"] == []


def test_merge_a_group_of_three_into_the_chosen_one(marketer: User) -> None:
    ids = [_contact(e).pk for e in ("a@x.jp", "a+1@x.jp", "a+2@x.jp")]
    posted = {"reason": "email", "members": ids, "keep": ids[1], "confirm": "1"}
    _client(marketer).post(MERGE, posted)
    assert list(Contact.objects.values_list("pk", flat=True)) == [ids[1]]


def test_merge_of_records_gone_meanwhile_says_so(
    marketer: User, pair: tuple[Contact, Contact]
) -> None:
    keep, other = pair
    posted = {"reason": "email", "members": [keep.pk, 999999], "keep": keep.pk, "confirm": "1"}
    response = _client(marketer).post(MERGE, posted, follow=True)
    assert response.status_code == 200
    assert len(list(response.context["messages"])) == 1
    assert Contact.objects.filter(pk__in=[keep.pk, other.pk]).count() == 2


@pytest.mark.parametrize(
    "posted",
    [
        {"reason": "email", "members": ["x", "y"], "keep": "x"},
        {"reason": "email", "members": ["1"], "keep": "1"},
        {"reason": "email", "members": ["1", "2"], "keep": "3"},
        {"reason": "nonsense", "members": ["1", "2"], "keep": "1"},
        {},
    ],
)
def test_bad_merge_posts_get_a_message_not_an_error(marketer: User, posted: dict[str, Any]) -> None:
    response = _client(marketer).post(MERGE, posted, follow=True)
    assert response.status_code in (200, 400)
    assert list(response.context["messages"])


def test_merge_is_post_only_and_needs_csrf(marketer: User, pair: tuple[Contact, Contact]) -> None:
    keep, other = pair
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    assert client.get(MERGE).status_code == 302
    posted = {"reason": "email", "members": [keep.pk, other.pk], "keep": keep.pk, "confirm": "1"}
    assert client.post(MERGE, posted).status_code == 403
    assert Contact.objects.filter(pk=other.pk).exists()


def test_merge_companies_from_the_page(marketer: User) -> None:
    keep, other = _company("株式会社さくら"), _company("㈱さくら", domain="sakura.co.jp")
    member = _contact("hanako@sakura.co.jp")
    Contact.objects.filter(pk=member.pk).update(company=other)
    posted = {"reason": "company_name", "members": [keep.pk, other.pk], "keep": keep.pk}
    confirm = _client(marketer).post(MERGE, posted)
    assert [c.contact_count for c in confirm.context["others"]] == [1]
    _client(marketer).post(MERGE, {**posted, "confirm": "1"})
    member.refresh_from_db()
    assert member.company_id == keep.pk
    assert not Company.objects.filter(pk=other.pk).exists()


# ---- company_merge --------------------------------------------------------------------


@pytest.mark.django_db
def test_company_merge_moves_contacts_fills_blanks_and_audits(marketer: User) -> None:
    keep = _company("株式会社さくら", prefecture="東京都")
    merge = _company(
        "㈱さくら", domain="sakura.co.jp", prefecture="大阪府", phone="+81612345678", owner=marketer
    )
    people = [_contact(f"p{i}@sakura.co.jp") for i in range(3)]
    Contact.objects.filter(pk__in=[p.pk for p in people]).update(company=merge)
    result = company_merge(keep=keep, merge=merge, actor=marketer)
    assert result.pk == keep.pk
    assert not Company.objects.filter(pk=merge.pk).exists()
    assert set(keep.contacts.values_list("pk", flat=True)) == {p.pk for p in people}
    keep.refresh_from_db()
    assert keep.name == "株式会社さくら"  # the survivor's name stays
    assert keep.domain == "sakura.co.jp"  # its blanks are filled (the unique domain too)
    assert keep.phone == "+81612345678"
    assert keep.prefecture == "東京都"  # what it had stays
    assert keep.owner_id == marketer.pk
    entry = AuditEntry.objects.get(action="company.merge")
    assert entry.object_id == keep.pk
    assert entry.changes["merged_company"] == [merge.pk, None]
    assert "contacts.contact.company" in entry.reason
    # The contacts' search text now holds the surviving company's name.
    assert all("株式会社さくら" in c.search_text for c in Contact.objects.filter(company=keep))


@pytest.mark.django_db
def test_company_merge_refuses_itself_and_a_vanished_company() -> None:
    keep = _company("さくら")
    with pytest.raises(ValidationError):
        company_merge(keep=keep, merge=keep, actor=None)
    gone = _company("㈱さくら")
    Company.objects.filter(pk=gone.pk).delete()
    with pytest.raises(ValidationError):
        company_merge(keep=keep, merge=gone, actor=None)
    assert Company.objects.filter(pk=keep.pk).exists()


def test_the_page_speaks_japanese(marketer: User) -> None:
    _company("株式会社さくら")
    _company("㈱さくら")
    response = _client(marketer).get(PAGE, {"reason": "company_name"}, HTTP_ACCEPT_LANGUAGE="ja")
    html = response.content.decode()
    assert "重複候補" in html
    assert "同じ企業名（表記違い）" in html
    assert "統合…" in html


@pytest.mark.parametrize("reason", ["email", "name", "phone", "company_name"])
def test_page_queries_do_not_grow_with_the_groups(marketer: User, reason: str) -> None:
    def make(start: int, count: int) -> None:
        for i in range(start, start + count):
            for j in range(2):
                _contact(
                    f"p{i}+{j}@x{i}.jp" if reason == "email" else f"p{i}-{j}@x.jp",
                    family_name="佐藤",
                    given_name=f"{i}",
                    company_name=f"会社{i}",
                    phone=f"03-1234-{i:04d}",
                )
            if reason == "company_name":
                _company(f"株式会社会社{i}")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(PAGE, {"reason": reason})
        assert response.status_code == 200
        return len(captured)

    client = _client(marketer)
    make(0, 2)
    few = queries()
    assert len(client.get(PAGE, {"reason": reason}).context["groups"]) == 2
    make(2, 6)
    assert queries() == few
    assert len(client.get(PAGE, {"reason": reason}).context["groups"]) == 8
