"""The conformance checks, one module per area of the contract.

Run them with `pytest --pyargs suites` (installed) or plain `pytest` in the
checkout. Every check names one requirement of the catalogue
(`fixtures/requirements/`); the harness turns outcomes into verdicts.
"""
