"""The console's hosted UI settings: both or neither, each validated, naming the variable."""

from __future__ import annotations

import pytest

from authz.errors import ConfigError
from authz.settings import KNOWN_VARIABLES, Settings

DOMAIN = "https://example.auth.eu-west-1.amazoncognito.com"


def error(environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ)
    return info.value


def test_unset_by_default() -> None:
    """No hosted UI unless asked for."""
    s = Settings.from_env({})
    assert (s.console_domain, s.console_client_id) == (None, None)
    assert {"AUTHZ_CONSOLE_DOMAIN", "AUTHZ_CONSOLE_CLIENT_ID"} <= KNOWN_VARIABLES


@pytest.mark.parametrize(
    "domain",
    [
        DOMAIN,
        DOMAIN + "/",
        "https://auth.example.com",
        "https://auth.example.com:8443",
        "https://auth.example.com:1",
        "https://auth.example.com:65535",
    ],
)
def test_a_domain_is_kept_as_its_origin(domain: str) -> None:
    """A hosted UI or custom domain is read as an https origin, without a trailing slash."""
    s = Settings.from_env({"AUTHZ_CONSOLE_DOMAIN": domain, "AUTHZ_CONSOLE_CLIENT_ID": "abc123"})
    assert s.console_domain == domain.rstrip("/")
    assert s.console_client_id == "abc123"


def test_blank_values_mean_unset() -> None:
    """serverless.yml passes the empty default params as "": no hosted UI, no error."""
    s = Settings.from_env({"AUTHZ_CONSOLE_DOMAIN": " ", "AUTHZ_CONSOLE_CLIENT_ID": ""})
    assert (s.console_domain, s.console_client_id) == (None, None)


@pytest.mark.parametrize(
    "domain",
    [
        "http://example.auth.us-east-1.amazoncognito.com",  # tokens would cross in clear
        "example.auth.us-east-1.amazoncognito.com",
        DOMAIN + "/login",
        DOMAIN + "?x=1",
        DOMAIN + "#x",
        "https://user@example.com",
        "https://exa mple.com",
        "https://",
        "javascript:alert(1)",
        "https://auth.example.com:0",  # no such port
        "https://auth.example.com:65536",
        "https://auth.example.com:99999",
        "https://auth.example.com:",
    ],
)
def test_a_domain_that_is_not_an_https_origin_fails(domain: str) -> None:
    """Anything but scheme, host and port is refused, naming the variable."""
    exc = error({"AUTHZ_CONSOLE_DOMAIN": domain, "AUTHZ_CONSOLE_CLIENT_ID": "abc123"})
    assert exc.variable == "AUTHZ_CONSOLE_DOMAIN"


@pytest.mark.parametrize("client", ["a b", "abc'", "é123", "x" * 129, "abc,def"])
def test_a_bad_client_id_fails(client: str) -> None:
    """The client id follows Cognito's pattern, ASCII only, like AUTHZ_CLIENT_IDS."""
    exc = error({"AUTHZ_CONSOLE_DOMAIN": DOMAIN, "AUTHZ_CONSOLE_CLIENT_ID": client})
    assert exc.variable == "AUTHZ_CONSOLE_CLIENT_ID"


def test_a_domain_without_a_client_names_the_client() -> None:
    """Half a hosted UI is a typo: the missing variable is named."""
    exc = error({"AUTHZ_CONSOLE_DOMAIN": DOMAIN})
    assert exc.variable == "AUTHZ_CONSOLE_CLIENT_ID"
    assert "AUTHZ_CONSOLE_DOMAIN" in str(exc)


def test_a_client_without_a_domain_names_the_domain() -> None:
    """Likewise the other way round."""
    exc = error({"AUTHZ_CONSOLE_CLIENT_ID": "abc123"})
    assert exc.variable == "AUTHZ_CONSOLE_DOMAIN"


def test_the_console_client_must_be_one_the_authorizer_accepts() -> None:
    """A console client missing from AUTHZ_CLIENT_IDS would get only 401s: start-up fails."""
    exc = error(
        {
            "AUTHZ_CONSOLE_DOMAIN": DOMAIN,
            "AUTHZ_CONSOLE_CLIENT_ID": "console1",
            "AUTHZ_CLIENT_IDS": "api1,api2",
        }
    )
    assert exc.variable == "AUTHZ_CONSOLE_CLIENT_ID"
    assert "AUTHZ_CLIENT_IDS" in str(exc)


@pytest.mark.parametrize("ids", ["api1,console1", "*"])
def test_a_listed_or_unchecked_client_is_accepted(ids: str) -> None:
    """Listed among the client ids, or the client check explicitly off: fine."""
    s = Settings.from_env(
        {
            "AUTHZ_CONSOLE_DOMAIN": DOMAIN,
            "AUTHZ_CONSOLE_CLIENT_ID": "console1",
            "AUTHZ_CLIENT_IDS": ids,
        }
    )
    assert s.console_client_id == "console1"
