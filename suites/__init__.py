"""The conformance checks, one module per area of the contract.

Run them with `pytest --target URL --target-profile PATH` (installed; `--pyargs bsk_conformance.suites` without a target) or plain `pytest` in the
checkout. Every check names one requirement of the catalogue
(`fixtures/requirements/`); the harness turns outcomes into verdicts.
"""
