//! The operator's console (GET /admin): asks for the admin key once (kept for the tab), then shows
//! a room live (waiting, active, admission rate, seats, oldest wait, ETA of the last in line, with
//! charts of the last five minutes), the controls (pause/resume, admission per tick, active cap,
//! overbooking, sale times) with each change's answer, and the Kafka-fed sales ledger beside the
//! seat maps' count. Plain HTML, CSS and JavaScript in `console.html`, compiled into the binary.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use std::sync::LazyLock;

use ticketing::http::{html_page, with_base_css, HttpResult};
use ticketing::App;

/// The page, as served: `console.html` with the CSS both pages share, put together once per process.
pub static PAGE: LazyLock<String> = LazyLock::new(|| with_base_css(include_str!("console.html")));

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
    async fn serves_the_console_keeping_the_key_in_the_tab_only() {
        let app = TestApp::spawn().await;
        let resp = handle(&app, request(Method::GET, "/admin", None)).await.unwrap();
        assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (200, "text/html; charset=utf-8"));
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(body.contains(PAGE_BASE_CSS) && !body.contains("/* base.css */"), "the shared CSS is in the page");
        assert!(body.contains("sessionStorage") && !body.contains("localStorage"), "the admin key lives for the tab only");
        assert!(body.contains("/admin/concerts/${id}/room") && body.contains("/admin/sales"));
        assert!(!body.contains("http://") && !body.contains("https://"), "nothing is loaded from elsewhere");
    }
}
