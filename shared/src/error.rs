//! The one error type of the API. Each variant fixes the HTTP status; the `code` is the stable,
//! machine-readable name clients switch on, and `detail` is for people.

use lambda_http::{http::StatusCode, Body, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, wrong types, a bad header).
    #[error("{code}: {detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no valid credentials (missing, forged or expired access or queue token).
    #[error("{code}: {detail}")]
    Unauthorized { code: &'static str, detail: String },
    /// 403: valid credentials that do not allow this yet (a queue token still WAITING).
    #[error("{code}: {detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404: the thing named in the request does not exist (for this user).
    #[error("{code}: {detail}")]
    NotFound { code: &'static str, detail: String },
    /// 409: the request is valid but the current state forbids it (seat taken, hold expired).
    #[error("{code}: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// 422: well-formed input whose values break a rule (negative amount, empty name).
    #[error("{code}: {detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// 503: a dependency (Redis) is unreachable; safe to retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected answer; the detail is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unavailable(_) => "STORE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// What the client reads; server-side causes stay in the logs.
    fn public_detail(&self) -> String {
        match self {
            ApiError::BadRequest { detail, .. }
            | ApiError::Unauthorized { detail, .. }
            | ApiError::Forbidden { detail, .. }
            | ApiError::NotFound { detail, .. }
            | ApiError::Conflict { detail, .. }
            | ApiError::Unprocessable { detail, .. } => detail.clone(),
            ApiError::Unavailable(_) => "the data store is unavailable, retry shortly".into(),
            ApiError::Internal(_) => "an unexpected error occurred".into(),
        }
    }

    /// Renders RFC 9457 problem details. `type` is a stable URN built from the code.
    pub fn to_response(&self) -> Response<Body> {
        let status = self.status();
        let body = json!({
            "type": format!("urn:problem:ticketing:{}", self.code().to_ascii_lowercase().replace('_', "-")),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "code": self.code(),
            "detail": self.public_detail(),
        });
        let mut builder = Response::builder()
            .status(status)
            .header("content-type", "application/problem+json");
        if matches!(self, ApiError::Unauthorized { .. }) {
            builder = builder.header("www-authenticate", "Bearer");
        }
        if matches!(self, ApiError::Unavailable(_)) {
            builder = builder.header("retry-after", "1");
        }
        builder.body(Body::from(body.to_string())).expect("static headers are valid")
    }
}

macro_rules! constructors {
    ($($fn_name:ident => $variant:ident),* $(,)?) => {
        impl ApiError {
            $(
                pub fn $fn_name(code: &'static str, detail: impl Into<String>) -> Self {
                    ApiError::$variant { code, detail: detail.into() }
                }
            )*
        }
    };
}

constructors! {
    bad_request => BadRequest,
    unauthorized => Unauthorized,
    forbidden => Forbidden,
    not_found => NotFound,
    conflict => Conflict,
    unprocessable => Unprocessable,
}

impl From<fred::error::Error> for ApiError {
    fn from(err: fred::error::Error) -> Self {
        use fred::error::ErrorKind;
        match err.kind() {
            ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled | ErrorKind::Backpressure => {
                ApiError::Unavailable(err.to_string())
            }
            _ => ApiError::Internal(format!("redis: {err}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_carries_status_code_and_detail() {
        let resp = ApiError::conflict("SEAT_TAKEN", "seat 7 is taken").to_response();
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
        let resp = ApiError::Internal("redis said something secret".into()).to_response();
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(!body.contains("secret"));
        assert_eq!(resp.status(), 500);
    }
}
