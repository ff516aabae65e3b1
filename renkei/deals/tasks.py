"""Background work of the deals app, run by the task worker (``renkei db_worker``)."""

from django_tasks import task

from renkei.deals.services import deal_create_for_sql


@task()
def deals_for_sql(contact_ids: list[int]) -> int:
    """Create the deals of contacts that reached SQL; returns how many. Safe to run twice."""
    return sum(deal_create_for_sql(contact_id=pk) is not None for pk in contact_ids)
