"""The rulebook: rule files (``rules/<package>/<slug>.toml``) validated, indexed and cached.

``load_rulebook`` is the entry point of an audit; ``check_dirs`` is ``depwatch rules check``.
A rule file is validated into a :class:`Rule` (``validate.py``, ``conditions.py``, with the
getters of ``checker.py``); ``folders.py`` reads rule folders; ``rows.py`` is the cache's row
format and ``cache.py`` the compiled cache of one folder; ``index.py`` joins folders into a
:class:`RuleBook`.
"""

from depwatch.rulebook.checker import RuleErrors
from depwatch.rulebook.folders import check_dirs, load_rule_file
from depwatch.rulebook.index import RuleBook, load_rulebook
from depwatch.rulebook.model import CallPattern, Examples, Rule, Usage
from depwatch.rulebook.shipped import shipped_dir

__all__ = [
    "CallPattern",
    "Examples",
    "Rule",
    "RuleBook",
    "RuleErrors",
    "Usage",
    "check_dirs",
    "load_rule_file",
    "load_rulebook",
    "shipped_dir",
]
