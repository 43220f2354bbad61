"""The rules engine: effective-dated parameters, scenarios, explanations (no policy content).

The content — parameter YAML files, scenario overlays and the formulas — lives in
``suiren.policy``. This package knows how to load, validate, overlay and look up dated,
regional parameters; it knows nothing of pensions.
"""
