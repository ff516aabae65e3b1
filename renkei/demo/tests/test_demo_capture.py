"""seed_demo sets up the demo site's capture: two web forms and the allowed origin."""

from datetime import date

import pytest
from django.test import Client

from renkei.capture.models import CaptureSettings, WebForm
from renkei.capture.services import capture_settings_update
from renkei.demo.capture import DEMO_FORMS, demo_capture_ensure, demo_form_key
from renkei.demo.services import demo_seed
from renkei.demo.vocabulary import SELLER_SITE

pytestmark = pytest.mark.django_db


def test_the_demo_has_two_forms_on_its_campaigns_with_stable_keys(client: Client) -> None:
    demo_seed(contacts=30, seed=3, until=date(2026, 3, 31))
    forms = {f.name: f for f in WebForm.objects.select_related("campaign")}
    assert set(forms) == {spec[1] for spec in DEMO_FORMS}
    for slug, name, *_rest in DEMO_FORMS:
        form = forms[name]
        assert form.key == demo_form_key(3, slug) and form.campaign is not None
        assert form.fields.filter(target="email", required=True).exists()
        assert client.get(f"/f/{form.key}/").status_code == 200
    assert forms["ウェビナー申込フォーム"].redirect_url == SELLER_SITE + "/seminar/thanks/"
    assert CaptureSettings.current().origin_list == [SELLER_SITE]
    assert demo_capture_ensure(seed=3) == 0  # seeding again adds nothing


def test_an_admins_capture_settings_are_kept(db: None) -> None:
    capture_settings_update(
        actor=None, allowed_origins=["https://www.example.co.jp"],
        allowed_redirect_domains=["example.co.jp"], honour_do_not_track=True,
    )  # fmt: skip
    assert demo_capture_ensure(seed=1) == 2
    current = CaptureSettings.current()
    assert current.origin_list == ["https://www.example.co.jp"]
    assert WebForm.objects.get(name="ウェビナー申込フォーム").redirect_url == ""
