"""The ABParts data model (seed 001), one module per domain."""
from .types import Model  # noqa: F401  (sets the naming convention first)
from .audit import InvitationAuditLog, SecurityEvent, UserManagementAuditLog, UserSession
from .enums import (
    ApprovalStatus,
    CustomerOrderStatus,
    MachineStatus,
    OrganizationType,
    PartType,
    StockStatus,
    StocktakeStatus,
    SupplierOrderStatus,
    TransactionType,
    TransferStatus,
    UserStatus,
)
from .export_log import ExportLog
from .idempotency import IdempotencyKey
from .inventory import Inventory, StockAdjustment
from .ledger import Transaction, TransactionApproval
from .machine import Machine
from .order import CustomerOrder, CustomerOrderItem, OrderEvent, SupplierOrder, SupplierOrderItem
from .organization import Organization
from .part import Part
from .reorder import ReorderSuggestion
from .stocktake import Stocktake, StocktakeCount, StocktakeCounter, StocktakeLine
from .transfer import StockTransfer, StockTransferLine
from .usage import PartUsage
from .user import PortalUser
from .warehouse import Warehouse

__all__ = [
    "ApprovalStatus", "CustomerOrder", "CustomerOrderItem", "CustomerOrderStatus", "ExportLog", "IdempotencyKey", "Inventory", "InvitationAuditLog",
    "Machine", "MachineStatus", "OrderEvent", "Organization", "OrganizationType", "Part", "PartType",
    "PartUsage", "PortalUser", "ReorderSuggestion", "SecurityEvent", "StockAdjustment", "StockStatus", "StockTransfer", "StockTransferLine",
    "SupplierOrder", "SupplierOrderItem", "SupplierOrderStatus", "Transaction", "TransactionApproval", "TransactionType",
    "TransferStatus", "Stocktake", "StocktakeCount", "StocktakeCounter", "StocktakeLine", "StocktakeStatus",
    "UserManagementAuditLog", "UserSession", "UserStatus", "Warehouse",
]

from .base import parse_uuid  # noqa: E402


def db_session():
    """The Flask-SQLAlchemy session of the running app."""
    from ..extensions import db

    return db.session
