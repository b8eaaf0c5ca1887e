#!/usr/bin/env python3
"""A locktest client in Python: redis-py's own Lock (its TTL, blocking acquire and extend) on a
single Redis node, speaking locktest's worker protocol (docs/client-protocol.md) on stdin/stdout.

Run by locktest, one process per client:

    locktest test --backend redis-single --client-cmd '/usr/bin/python3 clients/python/locktest_client.py'

It needs Debian's python3-redis (redis-py 4.3). It is the example of the protocol and its test:
everything the built-in client records, this one records the same way.
"""

import json
import os
import random
import re
import select
import sys
import time

import redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from redis.lock import Lock

PROTOCOL = 1
LOCK_KEY = "locktest-lock"
HOOKS = ("before-acquire", "after-acquire", "after-read", "before-write", "after-write", "after-release")

# The storage's commands, exactly as docs/client-protocol.md gives them.
WRITE = """
redis.call("SET", KEYS[1], ARGV[2])
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return 1"""
MARKED_READ = """
redis.call("SET", KEYS[2], ARGV[1])
return {1, tonumber(redis.call("GET", KEYS[1]) or "0")}"""
CHECKED_WRITE = """
if redis.call("GET", KEYS[3]) ~= ARGV[3] then return {0, 0} end
redis.call("SET", KEYS[1], ARGV[2])
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return {1, 0}"""


def fatal(msg):
    """Refuses a configuration this client cannot run: a message on stderr, exit status 2."""
    print("locktest_client.py: " + msg, file=sys.stderr)
    sys.exit(2)


_UNITS = {"h": 3600e9, "m": 60e9, "s": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3, "ns": 1.0}


def parse_go_duration(text):
    """Nanoseconds of a duration as Go writes it ("50ms", "1.5s", "1m0s")."""
    if text in ("", "0"):
        return 0
    parts = re.findall(r"([0-9.]+)(h|ms|m|s|us|µs|ns)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        fatal(f"cannot read the duration {text!r}")
    return int(sum(float(n) * _UNITS[u] for n, u in parts))


class TimedLock(Lock):
    """redis-py's Lock, noting when its last attempt was sent: a lease's validity counts from
    then, since the server may set the key at any moment after it."""

    attempt_ns = 0

    def do_acquire(self, token):
        self.attempt_ns = time.monotonic_ns()
        return super().do_acquire(token)

    def do_extend(self, additional_time, replace_ttl):
        self.attempt_ns = time.monotonic_ns()
        return super().do_extend(additional_time, replace_ttl)


class Commands:
    """The coordinator's commands on stdin, read without blocking the loop except where it waits."""

    def __init__(self):
        self.fd = sys.stdin.fileno()
        self.buf = b""
        self.closed = False

    def first_line(self):
        while b"\n" not in self.buf:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                fatal("stdin closed before the configuration")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def take(self, timeout):
        """Commands that arrived within timeout seconds (0: only those already sent)."""
        if not self.closed and select.select([self.fd], [], [], timeout)[0]:
            chunk = os.read(self.fd, 65536)
            if chunk:
                self.buf += chunk
            else:
                self.closed = True
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                out.append(json.loads(line))
        if self.closed:
            out.append({"cmd": "stop"})  # the coordinator is gone
        return out


class Client:
    def __init__(self, cfg):
        self.cfg = cfg
        self.process = cfg["process"]
        self.client = self.process
        self.seq = 0
        self.ttl_ns = cfg["ttl"]
        self.stopped = False
        self.wait_at = set(cfg.get("wait_at") or [])
        self.waiting = None
        self.commands = None
        self.lease = None  # (lock, owner, deadline_ns) while holding
        behaviour = cfg.get("client") or {}
        self.guard = behaviour.get("guard", "")
        self.guard_margin = behaviour.get("guard_margin", 0)
        self.extend = behaviour.get("extend", False)
        work = behaviour.get("work", "")
        lo, _, hi = work.partition("-")
        self.work = (parse_go_duration(lo), parse_go_duration(hi or lo))
        self.rng = random.Random(cfg.get("seed", 0) * 1_000_003 + self.process)
        if cfg["backend"] not in ("redis-py", "redis-single"):
            fatal(f"backend {cfg['backend']}: this client runs redis-py's Lock on one Redis node (redis-py, redis-single)")
        self.fencing = cfg.get("fencing") or "none"
        if self.fencing not in ("none", "check-and-set"):
            fatal(f"fencing {self.fencing}: redis-py's Lock has no fencing token (none or check-and-set)")
        if self.guard not in ("", "validity"):
            fatal(f"unknown guard {self.guard!r}")
        node_timeout = (cfg.get("node_timeout") or self.ttl_ns // 20) / 1e9
        host, port = cfg["lock_addrs"][0].rsplit(":", 1)
        self.rdb = redis.Redis(host=host, port=int(port), socket_timeout=node_timeout, socket_connect_timeout=node_timeout)
        host, port = cfg["storage_addr"].rsplit(":", 1)
        st = cfg["storage_timeout"] / 1e9
        self.storage = redis.Redis(host=host, port=int(port), socket_timeout=st, socket_connect_timeout=st)
        self.write_script = self.storage.register_script(WRITE)
        self.marked_read = self.storage.register_script(MARKED_READ)
        self.checked_write = self.storage.register_script(CHECKED_WRITE)

    # --- output

    def emit(self, event):
        event["process"] = self.process
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")

    def record(self, op):
        op.update(time=time.monotonic_ns(), process=self.process, client=self.client)
        self.emit({"kind": "op", "op": op})
        if op["type"] == "info" and op["f"] != "extend":
            # The unknown operation may still take effect: what follows is a new logical client.
            self.client += self.cfg["processes"]

    # --- commands and hooks

    def apply(self, cmd):
        kind = cmd.get("cmd")
        if kind == "stop":
            self.stopped = True
        elif kind == "wait-at":
            self.wait_at = set(cmd.get("hooks") or [])
        elif kind == "continue" and cmd.get("hook") == self.waiting:
            self.waiting = None

    def hook(self, name):
        for cmd in self.commands.take(0):
            self.apply(cmd)
        if name not in self.wait_at or self.stopped:
            return
        holding = self.lease is not None
        in_lease = holding and time.monotonic_ns() < self.lease[2]
        self.waiting = name
        self.emit({"kind": "hook", "hook": name, "time": time.monotonic_ns(), "holding": holding,
                   "in_lease": in_lease, "waiting": True})
        sys.stdout.flush()
        while self.waiting == name and not self.stopped:
            for cmd in self.commands.take(1.0):
                self.apply(cmd)
        self.waiting = None

    # --- the loop

    def run(self, commands):
        self.commands = commands
        self.emit({"kind": "ready", "protocol": PROTOCOL, "time": time.monotonic_ns()})
        sys.stdout.flush()
        while not self.stopped:
            self.hook("before-acquire")
            if self.stopped:
                break
            if not self.acquire():
                continue
            self.hook("after-acquire")
            self.increment()
            self.release()
            self.hook("after-release")
            think = self.cfg.get("think", 0)
            if think:
                sys.stdout.flush()
                time.sleep(think / 1e9)
        sys.stdout.flush()

    def acquire(self):
        lock = TimedLock(self.rdb, LOCK_KEY, timeout=self.ttl_ns / 1e9,
                         blocking_timeout=self.cfg["acquire_timeout"] / 1e9)
        self.record({"type": "invoke", "f": "acquire"})
        sys.stdout.flush()
        try:
            ok = lock.acquire()
        except RedisError as e:
            # The SET may have been applied with its reply lost.
            self.record({"type": "info", "f": "acquire", "error": f"acquire: outcome unknown: {e}"})
            return False
        if not ok:
            self.record({"type": "fail", "f": "acquire", "error": "lock not acquired: blocking_timeout passed"})
            return False
        owner = lock.local.token.decode()
        deadline = lock.attempt_ns + self.ttl_ns
        self.lease = (lock, owner, deadline)
        self.record({"type": "ok", "f": "acquire", "owner": owner, "deadline": deadline})
        return True

    def increment(self):
        self.seq += 1
        op_id = f"p{self.process}-{self.seq}"
        lock, owner, _ = self.lease
        self.record({"type": "invoke", "f": "incr", "id": op_id})
        sys.stdout.flush()
        try:
            if self.fencing == "check-and-set":
                value = self.marked_read(keys=["locktest:counter", "locktest:mark"], args=[owner])[1]
            else:
                value = int(self.storage.get("locktest:counter") or 0)
        except RedisError as e:
            # Nothing was written: the increment certainly had no effect.
            self.record({"type": "fail", "f": "incr", "id": op_id, "error": f"read: {e}"})
            return
        self.hook("after-read")
        skip = self.do_work()
        if not skip and self.guard == "validity":
            left = self.lease[2] - time.monotonic_ns()
            if left <= self.guard_margin:
                skip = f"write skipped: guard: {left / 1e6:.0f}ms of lease validity left, not above the {self.guard_margin / 1e6:.0f}ms margin"
        if skip:
            self.record({"type": "fail", "f": "incr", "id": op_id, "value": value, "error": skip, "skipped": True})
            return
        self.hook("before-write")
        sys.stdout.flush()
        try:
            if self.fencing == "check-and-set":
                applied = self.checked_write(keys=["locktest:counter", "locktest:writelog", "locktest:mark"],
                                             args=[op_id, value + 1, owner])[0]
                if not applied:
                    self.record({"type": "fail", "f": "incr", "id": op_id, "value": value, "fenced": True,
                                 "error": "write: rejected by fencing: another lease marked the resource after this one read it"})
                    return
            else:
                self.write_script(keys=["locktest:counter", "locktest:writelog"], args=[op_id, value + 1])
        except RedisError as e:
            self.record({"type": "info", "f": "incr", "id": op_id, "value": value, "error": f"write: {e}"})
        else:
            self.record({"type": "ok", "f": "incr", "id": op_id, "value": value})
        self.hook("after-write")

    def do_work(self):
        """Works inside the critical section, extending the lease below half a TTL if told to.
        Returns why the write must be skipped, or ""."""
        lo, hi = self.work
        if hi == 0 and not self.extend:
            return ""
        end = time.monotonic_ns() + (lo if hi <= lo else self.rng.randint(lo, hi))
        while True:
            if self.extend and self.lease[2] - time.monotonic_ns() < self.ttl_ns // 2:
                err = self.extend_lease()
                if err:
                    return "write skipped: lease not extended: " + err
            left = end - time.monotonic_ns()
            if left <= 0:
                return ""
            sys.stdout.flush()
            time.sleep(min(left, self.ttl_ns // 10) / 1e9)

    def extend_lease(self):
        lock, owner, _ = self.lease
        self.record({"type": "invoke", "f": "extend", "owner": owner})
        sys.stdout.flush()
        try:
            lock.extend(self.ttl_ns / 1e9, replace_ttl=True)
        except LockNotOwnedError as e:
            self.record({"type": "fail", "f": "extend", "owner": owner, "error": str(e)})
            return str(e)
        except (RedisError, LockError) as e:
            self.record({"type": "info", "f": "extend", "owner": owner, "error": f"extend: outcome unknown: {e}"})
            return str(e)
        deadline = lock.attempt_ns + self.ttl_ns
        self.lease = (lock, owner, deadline)
        self.record({"type": "ok", "f": "extend", "owner": owner, "deadline": deadline})
        return ""

    def release(self):
        lock, owner, _ = self.lease
        self.lease = None
        self.record({"type": "invoke", "f": "release", "owner": owner})
        sys.stdout.flush()
        try:
            lock.release()
        except LockNotOwnedError as e:
            self.record({"type": "fail", "f": "release", "owner": owner, "error": str(e)})
        except RedisError as e:
            self.record({"type": "info", "f": "release", "owner": owner, "error": f"release: outcome unknown: {e}"})
        else:
            self.record({"type": "ok", "f": "release", "owner": owner})


def main():
    commands = Commands()
    cfg = commands.first_line()
    if cfg.get("protocol") != PROTOCOL:
        fatal(f"locktest speaks worker protocol {cfg.get('protocol')}; this client speaks {PROTOCOL}")
    Client(cfg).run(commands)


if __name__ == "__main__":
    main()
