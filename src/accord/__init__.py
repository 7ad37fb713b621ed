"""Accord: agreements on cross-border data flows as running, verifiable software."""

from accord.errors import (
    AccordError,
    ConflictError,
    Diagnostic,
    InputError,
    IntegrityError,
    NotFoundError,
    PackError,
    PermissionDeniedError,
    StorageError,
    TransferError,
)

__version__ = "0.1.0"

__all__ = [
    "AccordError",
    "ConflictError",
    "Diagnostic",
    "InputError",
    "IntegrityError",
    "NotFoundError",
    "PackError",
    "PermissionDeniedError",
    "StorageError",
    "TransferError",
    "__version__",
]
