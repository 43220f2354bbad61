"""Suiren (随人): portable social insurance for flexible and platform workers.

Money follows the person (钱随人走): contributions, contribution years and pooled-fund
entitlements are recorded against the person, not the place where they were paid.
"""

__version__ = "0.1.0"
