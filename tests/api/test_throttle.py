"""The login throttle: at most LIMIT requests a window per address, the window sliding, and
bounded memory whatever the number of addresses (a flood from many addresses cannot grow it
without end); exact under threads."""

from __future__ import annotations

import threading

from suiren.api.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_gets_its_limit_a_window_and_others_their_own() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=3, window_s=60, clock=clock)
    assert [throttle.allow("a") for _ in range(4)] == [True, True, True, False]
    assert throttle.allow("b")  # another address counts on its own
    clock.now += 59.9
    assert not throttle.allow("a")  # the refused one did not count, the window has not passed
    clock.now += 0.2
    assert [throttle.allow("a") for _ in range(4)] == [True, True, True, False]


def test_memory_is_bounded_and_idle_addresses_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=2, window_s=60, addresses_max=100, clock=clock)
    for n in range(5_000):  # a flood from many addresses within one window
        assert throttle.allow(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 100
    assert throttle.allow("10.0.19.135") and not throttle.allow("10.0.19.135")  # kept: limited
    clock.now += 61
    throttle.allow("192.0.2.1")  # a request after a quiet window: the idle ones are dropped
    assert len(throttle) == 1


def test_threads_together_get_exactly_the_limit() -> None:
    throttle = LoginThrottle(limit=50, window_s=60)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(100):
            answer = throttle.allow("198.51.100.7")
            with lock:
                allowed.append(answer)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50 and len(allowed) == 800
