"""statsmodels forecasters (ARIMA, SARIMAX, Holt-Winters, ETS), saved without pickle.

A fitted results object is stored as what it is made of: the model's constructor options
(``config.json``-ready), its fitted parameters and the training series with its index
(``model.npz``, plain arrays). Loading rebuilds the same model and runs its filter once with
the stored parameters, so nothing is re-estimated; ``save`` checks that the rebuilt model
forecasts exactly like the original before it writes anything. Any other statsmodels results
object can only be stored as a pickle, which needs the caller's explicit trust.
"""

from modelward.runtimes.statsmodels.common import NATIVE_MODELS, NotPortableError, native_kind
from modelward.runtimes.statsmodels.flavor import ARRAYS_FILE, PICKLE_FILE, StatsmodelsFlavor
from modelward.runtimes.statsmodels.params import MAX_HORIZON
from modelward.runtimes.statsmodels.rebuild import check_rebuild, rebuild, reference_forecasts
from modelward.runtimes.statsmodels.runtime import StatsmodelsRuntime
from modelward.runtimes.statsmodels.spec import describe

__all__ = [
    "ARRAYS_FILE",
    "MAX_HORIZON",
    "NATIVE_MODELS",
    "PICKLE_FILE",
    "NotPortableError",
    "StatsmodelsFlavor",
    "StatsmodelsRuntime",
    "check_rebuild",
    "describe",
    "native_kind",
    "rebuild",
    "reference_forecasts",
]
