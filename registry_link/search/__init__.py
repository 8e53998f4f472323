"""Search the registry one record at a time (see :mod:`registry_link.search.index`)."""

from registry_link.search.index import Candidate, RegistryIndex, SearchResult
from registry_link.search.query import QUERY_FIELDS, query_settings

__all__ = ["QUERY_FIELDS", "Candidate", "RegistryIndex", "SearchResult", "query_settings"]
