"""Authorizer handler speed and memory, as ratios measured in one run.

- (a) repeated token, warm: ``handler`` on the same REST TOKEN event again
  and again (decision line written to /dev/null included) ÷ one raw RSA
  verification (``cryptography`` ``public_key.verify`` of the same token's
  signing input). Target <= 1.0.
- (b) new token, policies cached: distinct tokens of one principal kind
  (same groups) ÷ raw RSA verify. Target <= 4.
- (c) cold start: a fresh process importing ``authz.handlers.authorizer``
  and answering its first event (bundled JWKS via ``AUTHZ_JWKS_JSON``,
  policies in DynamoDB Local started here) ÷ a fresh process running
  ``import boto3; boto3.client("dynamodb")``; medians of a few runs each,
  interleaved, wall time of the whole process. Target <= 1.25.
- (d) peak RSS of a process that has answered 10,000 distinct principals
  (10,000 subs, each in 1-4 of 20 groups: ~5,000 distinct group sets).
  Target <= 120 MiB. (d') the same for the shipped ``policies/`` tree,
  whose ``default`` reads ``${sub}``, so that no two principals share an
  effective policy (10,000 subs in 0-2 of its groups, some with its scope).
  Target <= 120 MiB. Reported beside them, without a target: the bench
  policies with a ``${sub}`` statement in ``default``. The peak is the child's own
  ``VmHWM``, not ``ru_maxrss``: Linux carries the high-water mark of the
  memory a process replaced at exec into ``ru_maxrss``, and a child started
  by ``subprocess`` (vfork) replaces its parent's, so ``ru_maxrss`` reported
  this benchmark's own RSS (~74 MiB) whenever that was the larger.

- (e) (a) against a table holding 10,000 live revocations (half of users,
  a quarter each of sessions and tokens, none naming a bench token), which
  the authorizer holds (checked). Target <= 1.0. (f) (d) against that table:
  the peak RSS with 10,000 principals and 10,000 revocations held.
  Target <= 120 MiB. Reported beside them, without a target: the new-token
  path with the revocations held, and the best time of
  ``DynamoRepository.live_revocations`` reading the 10,000 from DynamoDB
  Local (the read a warm authorizer makes after an epoch move).

Cold start as the Lambda package runs it: the package holds authz's bytecode
(checked-hash pyc files that ``scripts/serverless-bytecode.js`` builds with
the runtime's Python 3.12 while packaging), so (c) imports a copy of authz/
compiled the same way beforehand, by this interpreter. Reported beside (c),
without a target: a copy with no bytecode, as a package built without a
Python 3.12 is, compiled at every cold start. Both sides run with
``PYTHONDONTWRITEBYTECODE=1``, as Lambda's file system is read only: nothing
a run compiles helps the next. The dependencies' bytecode is used on both
sides, as the venv has it.

Hot loops use the best of several interleaved rounds, so a noisy neighbour
on a shared machine inflates neither side more than the other.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from authz.policy.document import VERSION
from tests.tokens import CLIENT_ID, POOL_ID, KeyPair, access_claims, jwks, mint

ROOT = Path(__file__).resolve().parents[1]
# The shorthand policies/ teaches: expanded for the calling API and stage.
ANY = "execute-api:"
GROUPS = [f"team-{i:02d}" for i in range(20)]
BATCH = 200
ROUNDS = 25
NEW_TOKENS = 2000
COLD_RUNS = 15
PRINCIPALS = 10_000
REVOCATIONS = 10_000


SHIPPED_GROUPS = ["readers", "writers", "interns"]
SHIPPED_SCOPE = "orders/read"


def _shipped_policies() -> dict[str, dict[str, Any]]:
    """The policies/ tree this repository ships, as the bench loads it."""
    from authz.store.files import read_tree

    tree = read_tree(ROOT / "policies")
    if not tree.ok:
        raise RuntimeError(f"policies/ does not validate: {tree.problems}")
    return {str(s): f.document.to_dict() for s, f in tree.policies.items()}


def _policies(*, per_user: bool) -> dict[str, dict[str, Any]]:
    """Group policies for the bench; ``per_user`` adds a ``${sub}`` statement to
    ``default``, so that every principal has an effective policy of its own."""

    def doc(*resources: str, effect: str = "Allow") -> dict[str, Any]:
        return {
            "Version": VERSION,
            "Statement": [
                {"Effect": effect, "Action": "execute-api:Invoke", "Resource": list(resources)}
            ],
        }

    out = {
        "default": doc(f"{ANY}/*/GET/health"),
        "group:readers": doc(f"{ANY}/*/GET/orders", f"{ANY}/*/GET/orders/*"),
        "group:writers": doc(f"{ANY}/*/POST/orders", f"{ANY}/*/PUT/orders/*"),
    }
    if per_user:
        out["default"] = doc(f"{ANY}/*/GET/health", f"{ANY}/*/*/users/${{sub}}/*")
    for i, g in enumerate(GROUPS):
        out[f"group:{g}"] = doc(f"{ANY}/*/GET/{g}/*", f"{ANY}/*/POST/{g}/items/{i}")
    return out


def _env(endpoint: str, table: str, key: KeyPair) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTHZ_", "AWS_", "POWERTOOLS_", "_X_AMZN"))
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AUTHZ_USER_POOL_ID": POOL_ID,
            "AUTHZ_CLIENT_IDS": CLIENT_ID,
            "AUTHZ_JWKS_JSON": json.dumps(jwks(key)),
            # Never used (the bundled key set answers), but never the network either.
            "AUTHZ_JWKS_URL": "http://127.0.0.1:9/jwks.json",
            "AUTHZ_TABLE": table,
            "AUTHZ_DYNAMODB_ENDPOINT": endpoint,
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _event(token: str, path: str = "orders/1") -> dict[str, Any]:
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": f"arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/{path}",
    }


def _per_call_us(fn: Callable[[int], None], n: int) -> float:
    started = time.perf_counter()
    fn(n)
    return (time.perf_counter() - started) / n * 1e6


_COLD = """
import json, os, sys, time
started = time.perf_counter()
from authz.handlers.authorizer import handler
response = handler(json.loads(os.environ["BENCH_EVENT"]), None)
assert response["principalId"], response
"""

_BASELINE = """
import boto3
boto3.client("dynamodb")
"""

_MEMORY = """
import json, os, resource, sys
from authz.handlers.authorizer import handler

def peak_kib():
    # This process's own high-water mark (see the module docstring).
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/orders/1"
before = None
count = 0
with open(sys.argv[1]) as tokens:
    for line in tokens:
        handler({"type": "TOKEN", "authorizationToken": line.strip(), "methodArn": arn}, None)
        count += 1
        if before is None:
            before = peak_kib()
after = peak_kib()
print(json.dumps({"count": count, "first_kib": before, "peak_kib": after}), file=sys.stderr)
"""


def _run_python(code: str, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        # `python -c` puts its working folder first on sys.path: the code to import.
        cwd=env.get("PYTHONPATH", ROOT),
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {done.stderr[-2000:]}")
    return elapsed, done.stderr


def _hot_paths(env: dict[str, str], key: KeyPair) -> dict[str, float]:
    """(a) and (b): best per-call microseconds of raw RSA, repeated and new tokens."""
    from authz.handlers.authorizer import AuthorizerApp, build
    from authz.handlers.observability import Telemetry
    from authz.settings import Settings
    from authz.token.jwt import decode

    devnull = open(os.devnull, "w")  # noqa: SIM115  # closed when the process ends
    app: AuthorizerApp = build(
        Settings.from_env(env), telemetry=Telemetry(stream=devnull, environ={})
    )
    groups = ["readers", "writers"]
    same_event = _event(mint(access_claims(sub="bench-user", groups=groups, ttl=86_400), key))
    fresh = [
        mint(access_claims(sub="bench-user", groups=groups, ttl=86_400), key)
        for _ in range(NEW_TOKENS)
    ]
    fresh_events = [_event(t) for t in fresh]
    parts = [decode(t) for t in fresh]
    public = key.public_key
    app(same_event)  # epoch read, policies read, key prepared
    position = [0]

    def raw(n: int) -> None:
        for i in range(n):
            d = parts[i]
            public.verify(d.signature, d.signing_input, PKCS1v15(), SHA256())

    def repeated(n: int) -> None:
        for _ in range(n):
            app(same_event, None)

    def new(n: int) -> None:
        start = position[0]
        for i in range(start, start + n):
            app(fresh_events[i], None)
        position[0] = start + n

    best = {"raw": float("inf"), "repeated": float("inf"), "new": float("inf")}
    for _ in range(ROUNDS):
        if position[0] + BATCH > NEW_TOKENS:
            app.authorizer.clear()  # make the fresh tokens new again (policies refetch once)
            app(same_event)
            position[0] = 0
        best["raw"] = min(best["raw"], _per_call_us(raw, BATCH))
        best["repeated"] = min(best["repeated"], _per_call_us(repeated, BATCH))
        best["new"] = min(best["new"], _per_call_us(new, BATCH))
    devnull.close()
    return best


def _cold_start(env: dict[str, str], key: KeyPair) -> tuple[float, float, float]:
    """(c): median wall seconds of a cold handler process as packaged (authz's bytecode
    compiled beforehand), of the boto3 baseline, and of a cold handler process that
    compiles authz's source (a package built without Python 3.12; no target)."""
    tok = mint(access_claims(sub="cold-user", groups=["readers"], ttl=86_400), key)
    event = json.dumps(_event(tok))
    packaged: list[float] = []
    baseline: list[float] = []
    source_only: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        # Each side imports its own copy of authz/, never the tree's, whose __pycache__
        # may hold any bytecode; neither may write any (read-only, as on Lambda).
        packaged_env = _code_copy(Path(tmp) / "packaged", env, event)
        source_env = _code_copy(Path(tmp) / "source", env, event)
        # As the package ships it: checked-hash, dev/ and the CLI left out.
        compile_authz = ["-m", "compileall", "-q", "--invalidation-mode", "checked-hash"]
        subprocess.run(
            [sys.executable, *compile_authz, "-x", r"^authz[/\\](dev|cli)[/\\]", "authz"],
            cwd=packaged_env["PYTHONPATH"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _run_python(_COLD, source_env)  # page cache warm for every side
        _run_python(_BASELINE, env)
        _run_python(_COLD, packaged_env)
        for _ in range(COLD_RUNS):
            packaged.append(_run_python(_COLD, packaged_env)[0])
            baseline.append(_run_python(_BASELINE, env)[0])
            source_only.append(_run_python(_COLD, source_env)[0])
    return (
        statistics.median(packaged),
        statistics.median(baseline),
        statistics.median(source_only),
    )


def _code_copy(folder: Path, env: dict[str, str], event: str) -> dict[str, str]:
    """A copy of authz/ without bytecode in ``folder``, and the environment importing it."""
    shutil.copytree(ROOT / "authz", folder / "authz", ignore=shutil.ignore_patterns("__pycache__"))
    return {**env, "PYTHONPATH": str(folder), "BENCH_EVENT": event}


def _bench_claims(rng: random.Random, i: int) -> dict[str, Any]:
    chosen = rng.sample(GROUPS, rng.randint(1, 4))
    return access_claims(sub=f"user-{i:05d}", groups=chosen, ttl=86_400)


def _shipped_claims(rng: random.Random, i: int) -> dict[str, Any]:
    chosen = rng.sample(SHIPPED_GROUPS, rng.randint(0, 2))
    scopes = [SHIPPED_SCOPE] if rng.random() < 0.5 else []
    return access_claims(sub=f"user-{i:05d}", groups=chosen, scopes=scopes, ttl=86_400)


def _memory(
    env: dict[str, str],
    key: KeyPair,
    claims_of: Callable[[random.Random, int], dict[str, Any]] = _bench_claims,
    *,
    code: str = _MEMORY,
) -> dict[str, int]:
    """(d): the peak RSS of a process after PRINCIPALS distinct principals."""
    rng = random.Random(7)  # noqa: S311  # reproducible group choices, not secrets
    with tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False) as f:
        for i in range(PRINCIPALS):
            f.write(mint(claims_of(rng, i), key) + "\n")
        path = f.name
    try:
        _, err = _run_python(code, env, path)
    finally:
        os.unlink(path)
    result: dict[str, int] = json.loads(err.strip().splitlines()[-1])
    return result


_MEMORY_HELD = (
    _MEMORY
    + """
from authz.handlers.authorizer import container
held = container.get().authorizer.revocations.revocations
result = {"count": count, "first_kib": before, "peak_kib": after, "held": len(held)}
print(json.dumps(result), file=sys.stderr)
"""
)


def _revocation_items(count: int) -> list[dict[str, Any]]:
    """``count`` live revocations as table items: half of users, a quarter each of
    sessions and tokens, none naming a token this benchmark mints."""
    from datetime import UTC, datetime

    from authz.revocations import KINDS, Revocation, Target
    from authz.store import codec
    from authz.store.models import RevocationItem

    rng = random.Random(16)  # noqa: S311  # reproducible ids, not secrets
    now = datetime.now(UTC)
    kinds = ("sub", *KINDS)  # sub, sub, origin_jti, jti
    items = []
    for i in range(count):
        target = Target(kinds[i % len(kinds)], str(uuid.UUID(int=rng.getrandbits(128))))
        revocation = Revocation.new(
            target, reason="bench", revoked_by="bench", revoked_at=now, max_token_lifetime=86_400
        )
        items.append(codec.revocation_item(RevocationItem, revocation).serialize())
    return items


def _seed_revocations(endpoint: str, table: str, count: int) -> None:
    """Batch-write the revocations: the repository's one transaction per revocation
    would make seeding the longest part of the benchmark, and it is not measured."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    items = _revocation_items(count)
    for start in range(0, len(items), 25):
        pending: Any = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")


def _held_revocations(env: dict[str, str], key: KeyPair) -> int:
    """How many revocations an authorizer built like (a)'s holds after its first decision."""
    from authz.handlers.authorizer import build
    from authz.handlers.observability import Telemetry
    from authz.settings import Settings

    with open(os.devnull, "w") as devnull:
        app = build(Settings.from_env(env), telemetry=Telemetry(stream=devnull, environ={}))
        app(_event(mint(access_claims(sub="bench-user", groups=["readers"], ttl=86_400), key)))
        return len(app.authorizer.revocations.revocations)


def _load_revocations(repo: Any, expected: int) -> float:
    """Best wall milliseconds of the authorizer's read of every live revocation."""
    best = float("inf")
    for _ in range(COLD_RUNS):
        started = time.perf_counter()
        held = repo.live_revocations(max_entries=100_000)
        best = min(best, (time.perf_counter() - started) * 1000)
        if len(held) != expected or not held.complete:
            raise RuntimeError(f"loaded {len(held)} revocations, expected {expected}")
    return best


def _revoked_rows(
    env: dict[str, str], key: KeyPair, repo: Any
) -> list[tuple[str, float, str, str]]:
    """(e), (f) and the load time, against a table holding REVOCATIONS live revocations."""
    held = _held_revocations(env, key)
    if held != REVOCATIONS:
        raise RuntimeError(f"the authorizer holds {held} revocations, expected {REVOCATIONS}")
    best = _hot_paths(env, key)
    memory = _memory(env, key, code=_MEMORY_HELD)
    if memory["held"] != REVOCATIONS:
        raise RuntimeError(f"the memory child held {memory['held']} revocations")
    load = _load_revocations(repo, REVOCATIONS)
    n, r = f"{PRINCIPALS:,}", f"{REVOCATIONS:,}"
    return [
        (f"handler, repeated token, {r} revocations held", best["repeated"], "us", ""),
        (
            f"(e) repeated token / RSA verify, {r} revocations held",
            best["repeated"] / best["raw"],
            "x",
            "<= 1.0",
        ),
        (f"handler, new token, {r} revocations held", best["new"], "us", ""),
        (f"new token / RSA verify, {r} revocations held", best["new"] / best["raw"], "x", ""),
        (
            f"(f) peak RSS, {n} principals, {r} revocations",
            memory["peak_kib"] / 1024,
            "MiB",
            "<= 120",
        ),
        (f"load {r} live revocations from DynamoDB Local (live_revocations)", load, "ms", ""),
    ]


def run() -> list[dict[str, Any]]:
    from authz.dev.dynamodb import DynamoDBLocal
    from authz.policy import PolicyDocument, Selector
    from authz.settings import Settings
    from authz.store.repository import DynamoRepository

    key = KeyPair.generate("bench-authorizer")
    with DynamoDBLocal() as ddb:
        tables = {}
        variants = {
            "static": _policies(per_user=False),
            "per-user": _policies(per_user=True),
            "shipped": _shipped_policies(),
            "revoked": _policies(per_user=False),
        }
        for variant, policies in variants.items():
            table = f"authz-bench-{variant}-{uuid.uuid4().hex[:8]}"
            env = _env(ddb.endpoint, table, key)
            os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
            repo = DynamoRepository(Settings(table=table, dynamodb_endpoint=ddb.endpoint))
            repo.create_table(wait=True)
            for selector, document in policies.items():
                repo.put(Selector.parse(selector), PolicyDocument.from_dict(document), actor="b")
            tables[variant] = (env, repo)
        _seed_revocations(ddb.endpoint, tables["revoked"][0]["AUTHZ_TABLE"], REVOCATIONS)
        env = tables["static"][0]
        best = _hot_paths(env, key)
        cold, baseline, source_only = _cold_start(env, key)
        memory = _memory(env, key)
        memory_sub = _memory(tables["per-user"][0], key)
        memory_shipped = _memory(tables["shipped"][0], key, _shipped_claims)
        revoked_env, revoked_repo = tables["revoked"]
        revoked = _revoked_rows(revoked_env, key, revoked_repo)
        for _, repo in tables.values():
            repo.delete_table()

    def row(name: str, value: float, unit: str, target: str = "") -> dict[str, Any]:
        return {"name": name, "value": value, "unit": unit, "target": target}

    return [
        row("raw RSA verify", best["raw"], "us"),
        row("handler, repeated token", best["repeated"], "us"),
        row("(a) repeated token / RSA verify", best["repeated"] / best["raw"], "x", "<= 1.0"),
        row("handler, new token", best["new"], "us"),
        row("(b) new token / RSA verify", best["new"] / best["raw"], "x", "<= 4"),
        row("cold start: import + first event", cold * 1000, "ms"),
        row("baseline: import boto3 + client", baseline * 1000, "ms"),
        row("(c) cold start / boto3 client", cold / baseline, "x", "<= 1.25"),
        row("cold start without authz bytecode", source_only * 1000, "ms"),
        row("cold start without authz bytecode / boto3 client", source_only / baseline, "x"),
        row("RSS after the first decision", memory["first_kib"] / 1024, "MiB"),
        row(
            f"(d) peak RSS, {memory['count']:,} principals",
            memory["peak_kib"] / 1024,
            "MiB",
            "<= 120",
        ),
        row(
            f"(d') peak RSS, {memory_shipped['count']:,} principals, shipped policies/",
            memory_shipped["peak_kib"] / 1024,
            "MiB",
            "<= 120",
        ),
        row(
            f"peak RSS, {memory_sub['count']:,} principals, ${{sub}} policy",
            memory_sub["peak_kib"] / 1024,
            "MiB",
        ),
        *(row(*r) for r in revoked),
    ]


def main() -> None:
    rows = run()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        value = r["value"]
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        print(f"{r['name']:<{width}}  {shown:>10} {r['unit']:<4} {r['target']}")


if __name__ == "__main__":
    main()
