//! The vocabulary of refusals: every `code` a client can receive, REST and gRPC alike.
//!
//! Clients branch on these, so a code never changes meaning. Each one has exactly one HTTP
//! status and one gRPC code (fixed by the api layer) and one row in the error catalogue
//! (`docs/errors.md`), which a test keeps equal to [`ErrorCode::ALL`].

use crate::wire::wire_enum;

wire_enum! {
    /// The stable, machine-readable `code` of an error answer.
    pub enum ErrorCode ("error code") {
        /// 400: the request could not be read.
        BadRequest => "bad_request",
        /// 401: no bearer token, or one that does not hold.
        Unauthenticated => "unauthenticated",
        /// 401: the login's credentials do not match an active account.
        InvalidCredentials => "invalid_credentials",
        /// 401: the refresh token is unknown, expired, revoked or used already.
        InvalidGrant => "invalid_grant",
        /// 403: the caller's roles do not allow this here.
        Forbidden => "forbidden",
        /// 403: a change to one's own credentials without the current password.
        ReauthenticationRequired => "reauthentication_required",
        /// 403: the practitioner holds no role at the treatment's clinic.
        NotAssignedToClinic => "not_assigned_to_clinic",
        /// 403: deeper, or to another endpoint, than the practitioner's roles allow.
        OutsideScopeOfPractice => "outside_scope_of_practice",
        /// 404: no such resource in the caller's organisation.
        NotFound => "not_found",
        /// 409: a unique value is taken.
        AlreadyExists => "already_exists",
        /// 409: the transfer was received already.
        AlreadyReceived => "already_received",
        /// 409: the transfer was cancelled already.
        AlreadyCancelled => "already_cancelled",
        /// 409: an `org_admin` may not deactivate themselves.
        CannotDeactivateSelf => "cannot_deactivate_self",
        /// 409: a write at an inactive clinic.
        ClinicInactive => "clinic_inactive",
        /// 409: a screening factor the policy makes a contraindication.
        Contraindicated => "contraindicated",
        /// 409: a screening factor that defers treatment.
        Deferred => "deferred",
        /// 409: another request with the same `Idempotency-Key` is under way.
        IdempotencyKeyInFlight => "idempotency_key_in_flight",
        /// 409: the change would leave the organisation without an active human `org_admin`.
        LastOrgAdmin => "last_org_admin",
        /// 409: the lot is past its expiry date.
        LotExpired => "lot_expired",
        /// 409: the lot is recalled.
        LotRecalled => "lot_recalled",
        /// 409: the lot is on hold after an adverse-event signal.
        LotOnHold => "lot_on_hold",
        /// 409: the lot is not on hold, so there is nothing to release.
        LotNotOnHold => "lot_not_on_hold",
        /// 409: no valid screening on the treatment day.
        NoValidScreening => "no_valid_screening",
        /// 409: not enough units.
        OutOfStock => "out_of_stock",
        /// 409: the treatment is signed and immutable.
        RecordSigned => "record_signed",
        /// 409: a screening factor that blocks until a physician clears it.
        RequiresClearance => "requires_clearance",
        /// 409: a single-use unit's serial was used before.
        SerialAlreadyUsed => "serial_already_used",
        /// 409: balances kept changing under a stocktake or recall.
        StockChanged => "stock_changed",
        /// 409: the minimum interval since the last treatment has not passed.
        TooSoon => "too_soon",
        /// 409: a serial never received at the clinic.
        UnknownSerial => "unknown_serial",
        /// 410: a feed cursor older than the events kept.
        CursorExpired => "cursor_expired",
        /// 412: the `If-Match` version is not the current one.
        PreconditionFailed => "precondition_failed",
        /// 415: the body is not JSON.
        UnsupportedMediaType => "unsupported_media_type",
        /// 405: the path does not take this method.
        MethodNotAllowed => "method_not_allowed",
        /// 408: the request body stopped arriving.
        RequestTimeout => "request_timeout",
        /// 413: the request body is over the limit.
        PayloadTooLarge => "payload_too_large",
        /// 422: field values that are not acceptable, each named.
        ValidationFailed => "validation_failed",
        /// 422: the `Idempotency-Key` came before with another request.
        IdempotencyKeyReused => "idempotency_key_reused",
        /// 429: too many failed logins; wait `Retry-After`.
        TooManyAttempts => "too_many_attempts",
        /// 500: something failed inside; the details are in the log.
        Internal => "internal",
        /// 503: the database cannot be reached or cannot write now.
        Unavailable => "unavailable",
        /// 507: the database's disk is full.
        InsufficientStorage => "insufficient_storage",
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
