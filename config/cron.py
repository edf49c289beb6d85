"""Every periodic job of Piyasa, registered in this one module and run by `manage.py rqcron config.cron`.

Interval jobs get ttl = interval, so a tick that waited in the queue longer than one interval
expires instead of piling up behind newer ticks.
"""

from rq import cron

from engine import jobs

HEARTBEAT_INTERVAL_S = 10

cron.register(jobs.heartbeat, queue_name="high", interval=HEARTBEAT_INTERVAL_S, ttl=HEARTBEAT_INTERVAL_S)
