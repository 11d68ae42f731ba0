//! The fan's page (GET /): the public catalog with countdowns, the waiting line (position, ETA,
//! progress, the room's state, polling no faster than `Retry-After`, leaving), the seat map, holds
//! with their countdowns, payment, the balance with top-up, and "my tickets". Plain HTML, CSS and
//! JavaScript in `page.html`, compiled into the binary; it talks to the API on its own origin.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use std::sync::LazyLock;

use ticketing::http::{html_page, with_base_css, HttpResult};
use ticketing::App;

/// The page, as served: `page.html` with the CSS both pages share, put together once per process.
pub static PAGE: LazyLock<String> = LazyLock::new(|| with_base_css(include_str!("page.html")));

pub async fn handle(_app: &App, _req: Request) -> HttpResult {
    Ok(html_page(PAGE.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::http::PAGE_BASE_CSS;
    use ticketing::testing::{request, TestApp};

    #[tokio::test]
    async fn serves_the_page_as_cacheable_html_confined_to_its_origin() {
        let app = TestApp::spawn().await;
        let resp = handle(&app, request(Method::GET, "/", None)).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(resp.headers()["cache-control"], "public, max-age=300");
        assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("connect-src 'self'"));
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(body.starts_with("<!doctype html>"));
        assert!(body.contains(PAGE_BASE_CSS) && !body.contains("/* base.css */"), "the shared CSS is in the page");
        for api in ["/concerts", "/queue/tokens", "/queue/tokens/current", "/reservations", "/payments", "/users/me/balance"] {
            assert!(body.contains(&format!("'{api}'")) || body.contains(&format!("`{api}")), "the page uses {api}");
        }
        assert!(!body.contains("http://") && !body.contains("https://"), "nothing is loaded from elsewhere");
    }
}
