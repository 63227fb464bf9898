"""Small shared helpers: argument validation and progress reporting."""

from lasandbox.utils.progress import progress
from lasandbox.utils.validation import check_choice, check_int, check_real

__all__ = ["progress", "check_real", "check_int", "check_choice"]
