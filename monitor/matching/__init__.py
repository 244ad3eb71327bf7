"""Rule matching: rule files -> Engine; Engine.match(item) -> [RuleMatch].

    engine, problems = compile_rules(Path("rules"))
    for match in engine.match(item): ...

The language is described in rules/README.md; the text side in monitor.text.
"""

from monitor.matching.engine import Engine
from monitor.matching.loader import compile_rules, rules_fingerprint
from monitor.matching.schema import Problem, RuleInfo

__all__ = ["Engine", "Problem", "RuleInfo", "compile_rules", "rules_fingerprint"]
