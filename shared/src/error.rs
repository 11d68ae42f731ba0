//! The API's errors, in one place: every `code` a client can see ([`ErrorCode`], with its HTTP
//! status), [`ApiError`] rendered as RFC 9457 `application/problem+json`, and the mapping of the
//! domain's validation errors and the store's errors to them. Nothing else in the crate picks a
//! status or a code string.

use lambda_http::{http::StatusCode, Body, Response};
use serde_json::json;

use crate::domain::challenge::ChallengeError;
use crate::domain::{Field, ValidationError};
use crate::store::{Rejection, StoreError};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $status:literal $code:literal;)*) => {
        /// Every `code` the API answers with. The README's error table lists exactly these
        /// (a test checks it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable name clients switch on.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub fn status(self) -> StatusCode {
                let status = match self {
                    $(ErrorCode::$variant => $status,)*
                };
                StatusCode::from_u16(status).expect("valid status")
            }
        }
    };
}

error_codes! {
    InvalidBody = 400 "INVALID_BODY";
    InvalidIdempotencyKey = 400 "INVALID_IDEMPOTENCY_KEY";
    InvalidStatusFilter = 400 "INVALID_STATUS_FILTER";
    /// A report asked in a format other than `json` or `csv`.
    InvalidFormat = 400 "INVALID_FORMAT";
    MissingPathParameter = 400 "MISSING_PATH_PARAMETER";
    InvalidPage = 400 "INVALID_PAGE";
    /// The room's door asks a solved challenge (`GET /concerts/{id}/challenge`) with each join.
    ChallengeRequired = 428 "CHALLENGE_REQUIRED";
    /// A challenge this service did not issue, or altered.
    ChallengeInvalid = 400 "CHALLENGE_INVALID";
    ChallengeExpired = 400 "CHALLENGE_EXPIRED";
    ChallengeWrongConcert = 400 "CHALLENGE_WRONG_CONCERT";
    /// The nonce's hash lacks the challenge's leading zero bits.
    ChallengeUnsolved = 400 "CHALLENGE_UNSOLVED";
    /// The solution already took a place: one solution, one place.
    ChallengeReused = 409 "CHALLENGE_REUSED";
    /// The room is presale-only and the join brought no code.
    PresaleCodeRequired = 403 "PRESALE_CODE_REQUIRED";
    PresaleCodeNotFound = 404 "PRESALE_CODE_NOT_FOUND";
    /// The code is bound to another account.
    PresaleCodeTaken = 409 "PRESALE_CODE_TAKEN";
    /// A JSON body above [`crate::http::MAX_BODY_BYTES`].
    BodyTooLarge = 413 "BODY_TOO_LARGE";
    /// A body sent as something other than JSON (`Content-Type`).
    UnsupportedMediaType = 415 "UNSUPPORTED_MEDIA_TYPE";
    MissingToken = 401 "MISSING_TOKEN";
    InvalidToken = 401 "INVALID_TOKEN";
    TokenExpired = 401 "TOKEN_EXPIRED";
    MissingQueueToken = 401 "MISSING_QUEUE_TOKEN";
    InvalidQueueToken = 401 "INVALID_QUEUE_TOKEN";
    QueueTokenExpired = 401 "QUEUE_TOKEN_EXPIRED";
    InvalidAdminKey = 401 "INVALID_ADMIN_KEY";
    QueueTokenNotActive = 403 "QUEUE_TOKEN_NOT_ACTIVE";
    /// The queue token is for another concert's room.
    QueueTokenWrongConcert = 403 "QUEUE_TOKEN_WRONG_CONCERT";
    /// The room's pre-queue has not opened yet; `prequeueOpensAt` says when.
    SaleNotOpen = 403 "SALE_NOT_OPEN";
    AdminDisabled = 403 "ADMIN_DISABLED";
    UserNotFound = 404 "USER_NOT_FOUND";
    ConcertNotFound = 404 "CONCERT_NOT_FOUND";
    ScheduleNotFound = 404 "SCHEDULE_NOT_FOUND";
    SeatNotFound = 404 "SEAT_NOT_FOUND";
    ReservationNotFound = 404 "RESERVATION_NOT_FOUND";
    SeatTaken = 409 "SEAT_TAKEN";
    HoldExpired = 409 "HOLD_EXPIRED";
    InsufficientBalance = 409 "INSUFFICIENT_BALANCE";
    SoldOut = 409 "SOLD_OUT";
    SeatLimitReached = 409 "SEAT_LIMIT_REACHED";
    SaleAlreadyOpen = 409 "SALE_ALREADY_OPEN";
    /// Too many signups or queue entries from one address this minute; `Retry-After` says when.
    TooManyRequests = 429 "TOO_MANY_REQUESTS";
    InvalidName = 422 "INVALID_NAME";
    InvalidAmount = 422 "INVALID_AMOUNT";
    InvalidSeat = 422 "INVALID_SEAT";
    InvalidId = 422 "INVALID_ID";
    BalanceLimit = 422 "BALANCE_LIMIT";
    IdempotencyKeyReused = 422 "IDEMPOTENCY_KEY_REUSED";
    InvalidTitle = 422 "INVALID_TITLE";
    InvalidVenue = 422 "INVALID_VENUE";
    InvalidStartsAt = 422 "INVALID_STARTS_AT";
    InvalidPrice = 422 "INVALID_PRICE";
    InvalidSeatCount = 422 "INVALID_SEAT_COUNT";
    InvalidSchedules = 422 "INVALID_SCHEDULES";
    InvalidSaleWindow = 422 "INVALID_SALE_WINDOW";
    InvalidRoomSettings = 422 "INVALID_ROOM_SETTINGS";
    InvalidPresaleCode = 422 "INVALID_PRESALE_CODE";
    InvalidPresaleCodes = 422 "INVALID_PRESALE_CODES";
    /// A bug or an unexpected answer from the store; the cause is logged, never sent.
    Internal = 500 "INTERNAL";
    /// Redis is unreachable; safe to retry (`Retry-After: 1`).
    StoreUnavailable = 503 "STORE_UNAVAILABLE";
}

/// An error answer: a code, words for people, and (for server faults) a cause that only the logs
/// see.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", code.as_str())]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    cause: Option<String>,
    /// Extension members of the problem document (RFC 9457 §3.2), e.g. when a sale opens.
    members: Vec<(&'static str, serde_json::Value)>,
    /// A `Retry-After` header, in seconds.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError { code, detail: detail.into(), cause: None, members: Vec::new(), retry_after: None }
    }

    /// Tells the client when to try again.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds an extension member to the problem document.
    pub fn with_member(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.members.push((name, value.into()));
        self
    }

    /// A fault of ours: the client reads a generic sentence, the log the cause.
    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::Internal,
            detail: "an unexpected error occurred".into(),
            cause: Some(cause.into()),
            members: Vec::new(),
            retry_after: None,
        }
    }

    pub fn unavailable(cause: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::StoreUnavailable,
            detail: "the data store is unavailable, retry shortly".into(),
            cause: Some(cause.into()),
            members: Vec::new(),
            retry_after: Some(1),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// What the logs get: the cause of a server fault, or the detail.
    pub fn cause(&self) -> &str {
        self.cause.as_deref().unwrap_or(&self.detail)
    }

    /// Renders RFC 9457 problem details. `type` is a stable URN built from the code.
    pub fn to_response(&self) -> Response<Body> {
        let status = self.status();
        let code = self.code.as_str();
        let mut body = json!({
            "type": format!("urn:problem:ticketing:{}", code.to_ascii_lowercase().replace('_', "-")),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "code": code,
            "detail": self.detail,
        });
        for (name, value) in &self.members {
            body[*name] = value.clone();
        }
        let mut builder = Response::builder().status(status).header("content-type", "application/problem+json");
        if status == StatusCode::UNAUTHORIZED {
            builder = builder.header("www-authenticate", "Bearer");
        }
        if let Some(seconds) = self.retry_after {
            builder = builder.header("retry-after", seconds.to_string());
        }
        builder.body(Body::from(body.to_string())).expect("static headers are valid")
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        let code = match err.field {
            Field::Name => ErrorCode::InvalidName,
            Field::Amount => ErrorCode::InvalidAmount,
            Field::Price => ErrorCode::InvalidPrice,
            Field::Seat => ErrorCode::InvalidSeat,
            Field::Id => ErrorCode::InvalidId,
            Field::IdempotencyKey => ErrorCode::InvalidIdempotencyKey,
            Field::Title => ErrorCode::InvalidTitle,
            Field::Venue => ErrorCode::InvalidVenue,
            Field::StartsAt => ErrorCode::InvalidStartsAt,
            Field::SeatCount => ErrorCode::InvalidSeatCount,
            Field::Schedules => ErrorCode::InvalidSchedules,
            Field::SaleWindow => ErrorCode::InvalidSaleWindow,
            Field::RoomSettings => ErrorCode::InvalidRoomSettings,
            Field::Page => ErrorCode::InvalidPage,
            Field::PresaleCode => ErrorCode::InvalidPresaleCode,
            Field::PresaleCodes => ErrorCode::InvalidPresaleCodes,
        };
        ApiError::new(code, err.message)
    }
}

impl From<ChallengeError> for ApiError {
    fn from(err: ChallengeError) -> Self {
        let code = match err {
            ChallengeError::Invalid => ErrorCode::ChallengeInvalid,
            ChallengeError::Expired => ErrorCode::ChallengeExpired,
            ChallengeError::WrongConcert => ErrorCode::ChallengeWrongConcert,
            ChallengeError::Unsolved => ErrorCode::ChallengeUnsolved,
        };
        ApiError::new(code, err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(cause) => ApiError::unavailable(cause),
            StoreError::Unexpected(cause) => ApiError::internal(cause),
            StoreError::Rejected(rejection) => {
                let detail = rejection.to_string();
                let code = match &rejection {
                    Rejection::SaleNotOpen { prequeue_opens_at_ms } => {
                        return ApiError::new(ErrorCode::SaleNotOpen, detail)
                            .with_member("prequeueOpensAt", crate::domain::models::rfc3339(*prequeue_opens_at_ms));
                    }
                    Rejection::ConcertNotFound => ErrorCode::ConcertNotFound,
                    Rejection::SoldOut => ErrorCode::SoldOut,
                    Rejection::SeatLimitReached { .. } => ErrorCode::SeatLimitReached,
                    Rejection::WrongConcert => ErrorCode::QueueTokenWrongConcert,
                    Rejection::SaleAlreadyOpen => ErrorCode::SaleAlreadyOpen,
                    Rejection::BadSaleWindow => ErrorCode::InvalidSaleWindow,
                    Rejection::TooManyRequests { retry_after_secs } => {
                        return ApiError::new(ErrorCode::TooManyRequests, detail).with_retry_after(*retry_after_secs);
                    }
                    Rejection::UserNotFound => ErrorCode::UserNotFound,
                    Rejection::ScheduleNotFound => ErrorCode::ScheduleNotFound,
                    Rejection::SeatNotFound => ErrorCode::SeatNotFound,
                    Rejection::SeatTaken => ErrorCode::SeatTaken,
                    Rejection::ReservationNotFound => ErrorCode::ReservationNotFound,
                    Rejection::HoldExpired => ErrorCode::HoldExpired,
                    Rejection::InsufficientBalance { .. } => ErrorCode::InsufficientBalance,
                    Rejection::BalanceLimit { .. } => ErrorCode::BalanceLimit,
                    Rejection::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
                    Rejection::QueueTokenNotActive => ErrorCode::QueueTokenNotActive,
                    Rejection::QueueTokenEnded => ErrorCode::QueueTokenExpired,
                    Rejection::ChallengeRequired => ErrorCode::ChallengeRequired,
                    Rejection::ChallengeReused => ErrorCode::ChallengeReused,
                    Rejection::PresaleCodeRequired => ErrorCode::PresaleCodeRequired,
                    Rejection::PresaleCodeNotFound => ErrorCode::PresaleCodeNotFound,
                    Rejection::PresaleCodeTaken => ErrorCode::PresaleCodeTaken,
                };
                ApiError::new(code, detail)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    #[test]
    fn problem_json_carries_status_code_and_detail() {
        let resp = ApiError::new(ErrorCode::SeatTaken, "seat 7 is taken").to_response();
        assert_eq!(resp.status(), 409);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(body["code"], "SEAT_TAKEN");
        assert_eq!(body["status"], 409);
        assert_eq!(body["detail"], "seat 7 is taken");
        assert_eq!(body["type"], "urn:problem:ticketing:seat-taken");
    }

    #[test]
    fn internal_causes_are_not_sent_to_clients() {
        let err = ApiError::internal("redis said something secret");
        let resp = err.to_response();
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(!body.contains("secret"));
        assert_eq!(resp.status(), 500);
        assert_eq!(err.cause(), "redis said something secret");
        let resp = ApiError::unavailable("connection refused").to_response();
        assert_eq!(resp.status().as_u16(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
    }

    #[test]
    fn codes_are_unique() {
        let names: HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    /// The README's error table is the clients' reference: it must list every code under its
    /// status, and nothing else.
    #[test]
    fn the_readme_error_table_matches_the_codes() {
        let readme = include_str!("../../README.md");
        let table = readme.split("### Errors").nth(1).expect("README has an Errors section");
        let mut documented = BTreeSet::new();
        for line in table.lines().skip_while(|l| !l.starts_with("| status")).skip(2) {
            if !line.starts_with('|') {
                break;
            }
            let mut cells = line.split('|').skip(1);
            let status: u16 = cells.next().unwrap().trim().parse().expect("a status");
            // Codes are the backticked SCREAMING_SNAKE words; other backticked text is a note.
            for code in cells.next().unwrap().split('`').skip(1).step_by(2) {
                if code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    documented.insert((status, code.to_string()));
                }
            }
        }
        let defined: BTreeSet<_> = ErrorCode::ALL.iter().map(|c| (c.status().as_u16(), c.as_str().to_string())).collect();
        assert_eq!(documented, defined, "README error table vs ErrorCode");
    }
}
