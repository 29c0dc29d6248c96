"""The rulebook: rule files (``rules/<package>/<slug>.toml``) validated, indexed and cached.

``load_rulebook`` is the entry point of an audit; ``check_dirs`` is ``depwatch rules check``.
"""

from depwatch.rulebook.index import RuleBook, load_rulebook
from depwatch.rulebook.loader import RuleErrors, check_dirs, load_rule_file
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
