"""System checks on the settings that decide who a voter is, run before the first vote."""

import ipaddress
import logging

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# Prefixes shorter than these span many organisations' networks: trusting one lets any client
# there choose its own address by sending X-Forwarded-For. Private ranges (fc00::/7) are exempt.
WIDEST_PREFIX = {4: 8, 6: 32}


@register(Tags.security)
def check_trusted_proxies(app_configs=None, **kwargs) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for entry in settings.TRUSTED_PROXIES:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            messages.append(
                Error(
                    f"TRUSTED_PROXIES: {entry!r} is not an address or network.",
                    hint="Use addresses or CIDR networks, e.g. 10.0.0.5,172.18.0.0/16; "
                    "'none' (alone) trusts no proxy.",
                    id="laurel.E001",
                )
            )
            continue
        if network.prefixlen < WIDEST_PREFIX[network.version] and not network.is_private:
            messages.append(
                Error(
                    f"TRUSTED_PROXIES: {entry!r} trusts far more than a proxy: any client could "
                    "choose its own address by sending X-Forwarded-For.",
                    hint="List only the reverse proxies' own addresses or network.",
                    id="laurel.E002",
                )
            )
    if settings.REAL_MODE and not settings.TRUSTED_PROXIES and not settings.TRUST_UNIX_SOCKET:
        messages.append(
            Warning(
                "Laurel trusts no reverse proxy (TRUSTED_PROXIES is none, TRUST_UNIX_SOCKET is "
                "off): behind one, every voter would share the proxy's address.",
                hint="Set TRUSTED_PROXIES to the proxy's address or network, or "
                "TRUST_UNIX_SOCKET=true when it connects over a unix socket.",
                id="laurel.W001",
            )
        )
    return messages


def client_address_setup() -> str:
    """How Laurel tells voters apart, in words a newcomer can act on."""
    proxies = [f"from {', '.join(settings.TRUSTED_PROXIES)}"] if settings.TRUSTED_PROXIES else []
    if settings.TRUST_UNIX_SOCKET:
        proxies.append("over a unix socket")
    if not proxies:
        return (
            "Voters are told apart by the address of each connection. Behind a proxy, set "
            "TRUSTED_PROXIES to its address (see .env.example), or every voter will share it."
        )
    return (
        "Voters are told apart by the address of each connection; a proxy connecting "
        f"{' or '.join(proxies)} may name the voter's own address (X-Forwarded-For). Behind "
        "another proxy, set TRUSTED_PROXIES to its address (see .env.example)."
    )


def announce_client_address_setup() -> None:
    """Log, as a web process starts, how it finds client addresses and what looks wrong."""
    log = logging.getLogger("laurel.lib.net")
    log.info("%s", client_address_setup())
    for message in check_trusted_proxies():
        level = logging.ERROR if message.is_serious() else logging.WARNING
        log.log(level, "%s: %s %s", message.id, message.msg, message.hint or "")
