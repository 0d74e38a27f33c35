"""The `helpline worker` process: the persistence worker (persistence/worker.py), and beside it the webhook
dispatcher and the reply e-mails, sharing its store and its stop signal; SIGTERM or SIGINT stops it after the batch in
hand. uvloop where it is installed."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from persistence.reply_mail_runner import BackgroundNotifier, reply_notifier
from persistence.webhooks import run_dispatcher
from persistence.worker import REGISTRY, PersistenceWorker
from support.core.settings import Settings

log = logging.getLogger("helpline.worker")


async def run_worker(settings: Settings) -> None:
    """The `helpline worker` process: runs until SIGTERM or SIGINT, then stops after the batch in hand."""
    worker = PersistenceWorker(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.host, registry=REGISTRY)
        log.info("worker metrics on http://%s:%d/metrics", settings.host, settings.worker_metrics_port)
    # Webhooks are delivered from the persistence side: the dispatcher shares the worker's store and stop signal.
    webhooks = asyncio.create_task(run_dispatcher(settings, worker.stopping, worker.store), name="webhooks")
    notifier = reply_notifier(settings, worker.store)  # reply e-mails, when HELPLINE_SMTP_URL is set
    mail = BackgroundNotifier(notifier) if notifier else None
    try:
        await worker.run()
    finally:
        worker.stop()
        if mail is not None:
            await mail.close()
        try:
            await asyncio.wait_for(webhooks, settings.webhook_timeout_s + 5)
        except Exception:
            log.exception("the webhook dispatcher did not stop cleanly")
        await worker.close()


def run_worker_process(settings: Settings) -> None:
    """`helpline worker`'s event loop: uvloop where it is installed (it comes with uvicorn[standard])."""
    # The collector's tuning (start-up heap frozen, young collections every 50,000) is set by `helpline worker`
    # before this, as for the gateway (helpline/collector.py).
    try:
        import uvloop
    except ImportError:
        asyncio.run(run_worker(settings))
        return
    uvloop.run(run_worker(settings))
