"""``paddle.incubate.optimizer`` (the path Paddle's own test_lookahead.py uses): re-exports LookAhead."""
from lasandbox.incubate.lookahead import LookAhead  # noqa: F401
