"""The limit on login requests per client address (issue 11 §2: "login is rate-limited"),
in memory and bounded: at most ``limit`` requests in any ``window_s`` seconds from one
address, and at most ``addresses_max`` addresses remembered, the least recently seen
forgotten first (an address unseen for a whole window has nothing left to remember).

One per process: a deployment with several processes puts the same limit at its proxy.
Thread-safe: the portal's forms and the API's sync routes call it from worker threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

LIMIT = 20  # requests per address in one window
WINDOW_S = 60.0
ADDRESSES_MAX = 10_000  # addresses remembered at once (each at most LIMIT times)


class LoginThrottle:
    def __init__(
        self,
        limit: int = LIMIT,
        window_s: float = WINDOW_S,
        addresses_max: int = ADDRESSES_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window_s, self.addresses_max = limit, window_s, addresses_max
        self._clock = clock
        self._seen: OrderedDict[str, list[float]] = OrderedDict()  # least recently seen first
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        """Whether one more request from ``address`` is within the limit (then it counts)."""
        with self._lock:
            now = self._clock()
            recent = [t for t in self._seen.pop(address, ()) if now - t < self.window_s]
            allowed = len(recent) < self.limit
            if allowed:
                recent.append(now)
            self._seen[address] = recent  # the most recently seen, at the end
            self._forget(now)
            return allowed

    def _forget(self, now: float) -> None:
        """Drop the least recently seen addresses while they are idle for a whole window or
        while more than ``addresses_max`` are remembered."""
        while self._seen:
            oldest, times = next(iter(self._seen.items()))
            idle = not times or now - times[-1] >= self.window_s
            if not idle and len(self._seen) <= self.addresses_max:
                return
            del self._seen[oldest]

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
