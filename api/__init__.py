"""The Starlette application: routes, problem+json errors, OpenAPI, lifespan and limits."""

from api.app import create_app
from api.settings import Settings

__all__ = ["Settings", "create_app"]
