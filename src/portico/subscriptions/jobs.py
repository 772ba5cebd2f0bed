"""Subscriptions' periodic job, run by `portico periodic` (see `core.periodic`): the bill run, then
the dunning retries and the notices, every few minutes (each safe to run in several processes)."""

import datetime as dt

from portico.core.periodic import periodic


@periodic("subscriptions.billrun", every=dt.timedelta(minutes=5))
def billrun() -> str:
    from portico.subscriptions.billrun import run_bill_run
    from portico.subscriptions.dunning import run_dunning
    from portico.subscriptions.notices import send_notices

    report = run_bill_run()
    dunning = run_dunning()
    notices = send_notices()
    return f"{report}; dunning: {dunning}; notices: {notices} sent"
