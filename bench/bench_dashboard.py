"""The dashboard of a signed-in coordinator against the bare baseline, on the demo coalition.

``GET /dashboard`` loads the account from the session, applies the access policy and runs
four COUNT queries (people in scope, organizations, accounts, failed emails). Each client
signs in once through the real ``/login`` form before the clock starts.
"""

from __future__ import annotations

import re

from bench.harness import AppServer, Case, Comparison, compare

SEEDED: dict[str, tuple[str, str]] = {}


def seed(server: AppServer) -> None:
    # seed-demo prints one "role  email  password: ..." line per demo account.
    for line in server.flask("seed-demo").splitlines():
        match = re.match(r"\s*(\w+)\s+(\S+@\S+)\s+password:\s*(\S+)", line)
        if match:
            SEEDED.setdefault(match.group(1), (match.group(2), match.group(3)))


def run() -> list[Comparison]:
    with AppServer(setup=seed) as server:
        login = SEEDED["coordinator"]
        return [
            compare(server, Case("dashboard", "/dashboard", login=login, expect_status=[200]),
                    Case("hello", "/bench/hello", login=login),
                    name="coordinator dashboard (signed in)",
                    note="session + account load + 4 COUNTs + template"),
        ]


if __name__ == "__main__":
    from bench.run_all import main

    raise SystemExit(main(["--only", "dashboard"]))
