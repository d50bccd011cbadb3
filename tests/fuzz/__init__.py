"""Coverage-guided fuzzing of authz's input edges with atheris (libFuzzer for Python).

Targets, one module each, every one a ``check(data: bytes) -> None`` that
raises only when an invariant breaks (any exception is a finding):

- ``token``       ``Verifier.verify``: raw strings, byte flips of valid tokens,
                  header/payload JSON mutations re-signed with the test key,
                  signature attacks; accepted tokens are checked by an
                  independent oracle (base64url, RS256 with ``cryptography``,
                  every claim rule).
- ``policy``      ``PolicyDocument.from_dict`` on arbitrary and generated JSON;
                  valid documents round-trip, and evaluate / compact / merge /
                  substitute / explain agree with an independent glob oracle.
- ``authorizer``  the Lambda authorizer on arbitrary and mutated TOKEN, REQUEST,
                  HTTP API 1.0/2.0 and WebSocket events: 401, a response or a
                  documented 500, never an Allow without a valid token.
- ``admin``       the admin API on mutated REST proxy events: always a 2xx/4xx
                  response with a JSON error body for 4xx, and a rejected
                  request changes nothing.

Run (each target in its own process, bounded time and memory)::

    python -m tests.fuzz --runs 10000 --seed 1   # every target: the CI run (reproducible)
    python -m tests.fuzz --seconds 20            # every target, 20 s each, a fresh seed
    make fuzz FUZZ_SECONDS=1800                  # a long run: 30 min per target
    python -m tests.fuzz --seconds 3600 --target admin --keep-corpus   # grow a corpus
    python -m tests.fuzz.child admin tests/fuzz/findings/admin-crash-...  # replay one input

A finding is an input under ``tests/fuzz/findings/`` (git-ignored) plus the
run's log. Keep it by copying the input into ``tests/fuzz/corpus/<target>/``
under a name that says what broke, and pin the bug in
``tests/unit/test_regressions_fuzz.py``.

Nothing in this package imports ``authz`` at import time: the child process
must import it under ``atheris.instrument_imports`` to get coverage feedback.
Reproducers of past findings live in ``tests/fuzz/corpus/<target>/``; every
run replays them first and ``tests/unit/test_regressions_fuzz.py`` replays
them under pytest.
"""

TARGETS = ("token", "policy", "authorizer", "admin")
