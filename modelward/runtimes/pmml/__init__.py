"""PMML documents, scored in pure Python (no Java) by sklearn-pmml-model.

A PMML file is parsed with document type declarations refused: PMML never needs one, and a
DOCTYPE is how entity expansion ("billion laughs") and external entities (XXE) get into XML.
The file is copied unchanged; its ``DataDictionary`` and ``MiningSchema`` give the signature.
"""

from modelward.runtimes.pmml.flavor import PmmlFlavor
from modelward.runtimes.pmml.parsing import parse_pmml, root_name
from modelward.runtimes.pmml.reading import ESTIMATORS, read_schema
from modelward.runtimes.pmml.runtime import PMML_FILE, PmmlRuntime
from modelward.runtimes.pmml.schema import PmmlField, PmmlSchema
from modelward.runtimes.pmml.scoring import prepare_inputs

__all__ = [
    "ESTIMATORS",
    "PMML_FILE",
    "PmmlField",
    "PmmlFlavor",
    "PmmlRuntime",
    "PmmlSchema",
    "parse_pmml",
    "prepare_inputs",
    "read_schema",
    "root_name",
]
