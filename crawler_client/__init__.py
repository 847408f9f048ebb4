"""The client side of Kotowari: the registry client and the `kotowari` command line."""

from crawler_client.client import Client
from crawler_client.errors import KotowariError, RegistryProblem, RegistryUnavailable, UnexpectedAnswer

__all__ = ["Client", "KotowariError", "RegistryProblem", "RegistryUnavailable", "UnexpectedAnswer"]
