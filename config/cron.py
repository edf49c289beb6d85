"""Every periodic job of Piyasa, registered in this one module and run by `manage.py rqcron config.cron`.

Interval jobs get ttl = interval, so a tick that waited in the queue longer than one interval
expires instead of piling up behind newer ticks.
"""

from rq import cron

from engine import jobs
from engine.queues import QueueName

TICK_INTERVAL_S = 2
RECOVERY_INTERVAL_S = 30
EVENTS_INTERVAL_S = 5  # a scheduled market event fires within seconds of its time
NEWS_INTERVAL_S = 15 * 60
WEBHOOK_INTERVAL_S = 10 * 60
CAPABILITIES_INTERVAL_S = 15 * 60  # getChat per enabled group: slow mode, rights, reactions
STANCES_INTERVAL_S = 60

cron.register(jobs.tick, queue_name=QueueName.HIGH, interval=TICK_INTERVAL_S, ttl=TICK_INTERVAL_S)
cron.register(jobs.fire_events, queue_name=QueueName.HIGH, interval=EVENTS_INTERVAL_S, ttl=EVENTS_INTERVAL_S)
cron.register(jobs.recover_turns, queue_name=QueueName.LOW, interval=RECOVERY_INTERVAL_S, ttl=RECOVERY_INTERVAL_S)
cron.register(jobs.fetch_news, queue_name=QueueName.LOW, interval=NEWS_INTERVAL_S, ttl=NEWS_INTERVAL_S)
cron.register(jobs.ensure_webhooks, queue_name=QueueName.LOW, interval=WEBHOOK_INTERVAL_S, ttl=WEBHOOK_INTERVAL_S)
cron.register(
    jobs.refresh_capabilities, queue_name=QueueName.LOW, interval=CAPABILITIES_INTERVAL_S, ttl=CAPABILITIES_INTERVAL_S
)
cron.register(jobs.evolve_stances, queue_name=QueueName.LOW, interval=STANCES_INTERVAL_S, ttl=STANCES_INTERVAL_S)
