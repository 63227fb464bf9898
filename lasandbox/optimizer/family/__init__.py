"""Paddle's optimizer family: one module per class, each a thin mapping of Paddle's arguments onto a rule.

Every module here is imported by ``lasandbox.optimizer.registry`` and registers
its class there; adding an optimizer is adding a module.
"""
