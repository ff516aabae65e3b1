"""The business calendar (editable afterwards on /sla/calendar/)."""

import datetime

from django.db import migrations

WEEKDAY_HOURS = [[540, 720], [780, 1080]]  # 9:00–12:00, 13:00–18:00 (lunch 12–13)


def create_calendar(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    CompanyHoliday = apps.get_model("sla", "CompanyHoliday")
    calendar, created = BusinessCalendar.objects.get_or_create(
        pk=1,
        defaults={
            "name": "営業カレンダー",
            "time_zone": "Asia/Tokyo",
            "hours": {str(day): WEEKDAY_HOURS for day in range(5)},
            "public_holidays": True,
        },
    )
    if created:
        CompanyHoliday.objects.bulk_create(
            [
                CompanyHoliday(
                    calendar=calendar,
                    name="年末年始",
                    start=datetime.date(2000, 12, 29),
                    end=datetime.date(2001, 1, 3),
                    every_year=True,
                ),
                CompanyHoliday(
                    calendar=calendar,
                    name="お盆",
                    start=datetime.date(2000, 8, 13),
                    end=datetime.date(2000, 8, 16),
                    every_year=True,
                ),
            ]
        )


def remove_calendar(apps, schema_editor):
    apps.get_model("sla", "BusinessCalendar").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(create_calendar, remove_calendar)]
