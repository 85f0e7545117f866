"""The conformance checks, one module per area of the contract.

Run them with `pytest --target URL --target-profile PATH` (installed; without
a target, `pytest --pyargs bsk_conformance.suites`) or plain `pytest` in the
checkout. Every check names one requirement of the catalogue
(`fixtures/requirements/`); the harness turns outcomes into verdicts.
"""
