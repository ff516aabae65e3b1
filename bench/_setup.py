"""Prepare a freshly migrated database for a benchmark and print what the client needs.

Run as ``DATABASE_URL=… python -m bench._setup --contacts N``: seeds N demo contacts (no
events, so the server starts from an empty events table), creates an API token for the
demo marketer and prints ``{"token", "contacts": [[id, email], …], "campaign_ids"}``.
"""

import argparse
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=3000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User

    from renkei.accounts.services import api_token_create
    from renkei.campaigns.models import Campaign
    from renkei.contacts.models import Contact
    from renkei.demo.services import demo_seed

    demo_seed(contacts=args.contacts, seed=1, events_per_contact=0, force=True)
    _, secret = api_token_create(user=User.objects.get(username="marketing"), name="bench")
    print(
        json.dumps(
            {
                "token": secret,
                "contacts": list(Contact.objects.values_list("id", "email_normalized")),
                "campaign_ids": list(Campaign.objects.values_list("id", flat=True)),
            }
        )
    )


if __name__ == "__main__":
    main()
