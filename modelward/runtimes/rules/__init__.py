"""Decision tables in YAML with DMN hit policies (the ``rules`` flavor)."""

from modelward.runtimes.rules.flavor import RulesFlavor, RulesRuntime
from modelward.runtimes.rules.table import DecisionTable, Rule

__all__ = ["DecisionTable", "Rule", "RulesFlavor", "RulesRuntime"]
