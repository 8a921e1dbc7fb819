"""Public pages against the bare baseline, on the demo coalition.

- ``GET /``: the home page as visitors get it (from the few seconds' page cache), and
  rendered for each request (a session cookie skips the cache): one COUNT over
  organizations, the open petitions and a full template render.
- ``GET /healthz``: ``SELECT 1`` on PostgreSQL and a PING to Redis, as a load balancer
  would poll it.

The baseline ``GET /bench/hello`` returns a constant string through the same gunicorn,
Flask and middleware, so the ratio is the cost of the page itself.
"""

from __future__ import annotations

from bench.harness import AppServer, Case, Comparison, compare

HELLO = Case("hello", "/bench/hello")


def seed(server: AppServer) -> None:
    server.flask("seed-demo")


def run() -> list[Comparison]:
    with AppServer(setup=seed) as server:
        status, page = server.get("/")
        if status != 200:
            raise RuntimeError(f"GET / answered {status}: {page[:500]}")
        return [
            compare(server, Case("home", "/"), HELLO, name="public home page",
                    note="as visitors get it: from the few seconds' page cache"),
            compare(server, Case("home, rendered", "/", headers={"Cookie": "session=bench"}),
                    HELLO, name="public home page, rendered for each request",
                    note="a session cookie skips the page cache: COUNT of member "
                         "organizations + open petitions + template"),
            compare(server, Case("healthz", "/healthz"), HELLO, name="health check",
                    note="SELECT 1 + Redis PING"),
        ]


if __name__ == "__main__":
    from bench.run_all import main

    raise SystemExit(main(["--only", "public_pages"]))
