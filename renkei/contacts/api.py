from ninja import Router

contacts_router = Router(tags=["contacts"])
companies_router = Router(tags=["companies"])
