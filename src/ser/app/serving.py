"""The app page's kernels, bounded: a cap on visitors at once, and culling of the ones who left.

Voila starts a kernel (about 300 MB) for every page load. Left alone, a class
or a crawler fills the machine's memory. Voila's kernel manager is configured
(``ser.app.server`` passes the settings) to:

- refuse a visitor beyond ``max_kernels`` with a short "busy" page (HTTP 503),
  instead of starting one more kernel; the preheated kernel that Voila keeps
  ready for the next visitor is not counted;
- shut down a kernel that no page is connected to once it has been idle (not
  busy) for ``orphan_timeout`` seconds (a closed tab, or a plain page load that
  never connected), using jupyter-server's own culler; idle time counts from
  when a visitor took the kernel from the pool, and a kernel still running the
  page's cells is busy, not idle;
- shut down a connected kernel idle for ``cull_idle_timeout`` seconds.

Only jupyter-server's culling loop runs; nothing here watches processes.
"""

from __future__ import annotations

from datetime import timedelta

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import ensure_async
from tornado import web
from traitlets import Integer

DEFAULT_MAX_USERS = 4
DEFAULT_IDLE_SECONDS = 600
DEFAULT_ORPHAN_SECONDS = 60
DEFAULT_CULL_INTERVAL = 15


def busy_message(max_kernels: int) -> str:
    return (
        f"Busy: {max_kernels} visitors are using the demo right now. Please try again in a minute."
    )


class DemoKernelManager(AsyncMappingKernelManager):
    """jupyter-server's kernel manager with a cap on visitors' kernels and a shorter idle
    time for kernels that no page is connected to."""

    max_kernels = Integer(
        DEFAULT_MAX_USERS, config=True,
        help="Visitors' kernels running at once; one more visitor gets a 'busy' page.",
    )  # fmt: skip
    orphan_timeout = Integer(
        DEFAULT_ORPHAN_SECONDS, config=True,
        help="Seconds after which an idle kernel with no page connected is shut down.",
    )  # fmt: skip

    def preheated_kernel_ids(self) -> set[str]:
        """Kernels Voila keeps ready in its pool, not yet handed to a visitor."""
        ready = set()
        for pool in getattr(self, "_pools", {}).values():
            for task in pool:
                if task.done() and not task.cancelled() and task.exception() is None:
                    ready.add(task.result()["kernel_id"])
        return ready

    def visitor_kernels(self) -> int:
        return len(set(self.list_kernel_ids()) - self.preheated_kernel_ids())

    async def start_kernel(self, *args, **kwargs) -> str:
        """Start a kernel, or refuse with HTTP 503 when ``max_kernels`` visitors have one.

        This covers both ways a visitor gets a kernel: a new one (no kernel ready)
        and the ready one, whose replacement is not started at the cap, so the next
        visitor is told "busy".
        """
        visitors = self.visitor_kernels()
        if visitors >= self.max_kernels:
            self.log.warning("demo busy: %d visitors, cap %d", visitors, self.max_kernels)
            raise web.HTTPError(503, reason=busy_message(self.max_kernels))
        return await super().start_kernel(*args, **kwargs)

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))
        self.refill_pool()

    def refill_pool(self) -> None:
        """After a kernel left, let Voila's pool take a ready kernel again if a start was refused."""
        pools = getattr(self, "_pools", None)
        if not pools or not hasattr(self, "fill_if_needed"):
            return
        for name, pool in pools.items():
            pool[:] = [t for t in pool if not (t.done() and (t.cancelled() or t.exception()))]
            if not pool:
                self.fill_if_needed(delay=0, notebook_name=name)

    async def cull_kernels(self):
        """One culling pass. A kernel waiting in the pool counts as active, so a visitor's
        idle time starts when the visitor takes it, not when it was preheated (else a
        kernel that waited longer than ``orphan_timeout`` is culled mid page load)."""
        for kernel_id in self.preheated_kernel_ids():
            if kernel_id in self._kernels:
                self._kernels[kernel_id].last_activity = utcnow()
        await super().cull_kernels()

    async def cull_kernel_if_idle(self, kernel_id):
        kernel = self._kernels.get(kernel_id)
        connections = self._kernel_connections.get(kernel_id, 0)
        busy = getattr(kernel, "execution_state", None) == "busy"  # e.g. still rendering the page
        if kernel is not None and not connections and not busy and hasattr(kernel, "last_activity"):
            idle = utcnow() - kernel.last_activity
            if idle > timedelta(seconds=self.orphan_timeout):  # pool kernels are stamped active
                self.log.info("culling kernel %s: no page connected for %s", kernel_id, idle)
                await ensure_async(self.shutdown_kernel(kernel_id))
                return
        return await ensure_async(super().cull_kernel_if_idle(kernel_id))
