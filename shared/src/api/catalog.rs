//! The public catalog.

use serde::Serialize;

use crate::domain::models::Concert;

/// `GET /concerts`: serialized straight from the cached catalog (no copy of it).
#[derive(Debug, Serialize)]
pub struct CatalogBody<'a> {
    pub concerts: &'a [Concert],
}
