"""SQLModel tables, grouped by subject. Importing this package registers every table."""
from gazportal.models.accounts import Account, AccountLinkRemoval, Branch, Flat, House, Settlement, Street, UserAccountLink
from gazportal.models.audit import AuditEntry
from gazportal.models.auth import (
    AuthSession, KnownDevice, LoginThrottle, OneTimeSecret, RequestDocument, ReregistrationRequest, UsedSubmission,
)
from gazportal.models.billing import Charge, DebtCertificate, Payment, PaymentIncident, PaymentOrder, Tariff, TariffStep
from gazportal.models.messages import CustomerMessage, MessageEvent
from gazportal.models.metering import (
    BuildingMeter, BuildingReading, Meter, Reading, ReadingDispute, ReadingReview, StatConsumer, StatDay, StatDebt,
    StatMonth,
)
from gazportal.models.people import User

__all__ = [
    "AuthSession", "KnownDevice", "LoginThrottle", "OneTimeSecret", "RequestDocument", "ReregistrationRequest",
    "Account", "AccountLinkRemoval", "AuditEntry", "MessageEvent",
    "Branch", "BuildingMeter", "BuildingReading", "Charge", "CustomerMessage", "DebtCertificate", "Flat",
    "House", "Meter", "Payment", "PaymentIncident", "PaymentOrder", "Reading", "ReadingDispute", "ReadingReview",
    "Settlement", "StatConsumer", "StatDay", "StatDebt", "StatMonth", "Street", "Tariff", "TariffStep", "User",
    "UsedSubmission", "UserAccountLink",
]
