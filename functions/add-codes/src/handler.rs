//! Operators: load or generate a room's presale codes (POST /admin/concerts/{concertId}/codes)
//! with `{codes: [...]}` or `{generate: n}`, up to 100,000 in one request. With the room set
//! presale-only (`PATCH /admin/concerts/{id}/room {presale: true}`), a new place needs one of
//! them, bound to the first account that redeems it. Loading a code again keeps its owner, so a
//! resent request changes nothing more. `main.rs` runs this handler on Lambda; the local gateway
//! calls it in-process.

use lambda_http::Request;
use serde::Serialize;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::presale::{CodesRequest, NewCodes, PresaleCode};
use ticketing::http::{json, parse_json_up_to, path_param, HttpResult, MAX_BULK_BODY_BYTES};
use ticketing::App;

/// The answer: how many codes are new, how many the room has, and the generated codes (to hand
/// out; loaded codes are not sent back).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodesBody {
    added: u64,
    issued: u64,
    codes: Vec<String>,
}

/// 200 with `{added, issued, codes}`; 404 `CONCERT_NOT_FOUND`; 422 `INVALID_PRESALE_CODES` or
/// `INVALID_PRESALE_CODE`.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    app.authorize_operator(&req)?;
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let (codes, generated) = match parse_json_up_to::<CodesRequest>(&req, MAX_BULK_BODY_BYTES)?.validate()? {
        NewCodes::Load(codes) => (codes, false),
        NewCodes::Generate(n) => ((0..n).map(|_| PresaleCode::generate()).collect(), true),
    };
    let done = app.store.queue.add_codes(&concert, &codes).await?;
    tracing::info!(concert = %concert, added = done.added, issued = done.issued, "presale codes added");
    let codes = if generated { codes.iter().map(|c| c.as_str().to_owned()).collect() } else { Vec::new() };
    Ok(json(200, &CodesBody { added: done.added, issued: done.issued, codes }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::domain::admin::RoomUpdateRequest;
    use ticketing::domain::now_ms;
    use ticketing::domain::presale::MAX_CODES_PER_REQUEST;
    use ticketing::store::queue::AtTheDoor;
    use ticketing::testing::{read, request, with_path, TestApp};

    fn post(id: &str, body: serde_json::Value) -> Request {
        let mut req = with_path(request(Method::POST, &format!("/admin/concerts/{id}/codes"), Some(body)), &[("concertId", id)]);
        req.headers_mut().insert("x-admin-key", "test-admin-key".parse().unwrap());
        req
    }

    #[tokio::test]
    async fn a_stadiums_batch_is_generated_in_one_request_and_loading_again_changes_nothing() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let c = concert.concert_id.as_str();
        let (status, body) = read(handle(&app, post(c, json!({ "generate": MAX_CODES_PER_REQUEST }))).await);
        assert_eq!((status, body["added"].as_u64(), body["issued"].as_u64()), (200, Some(100_000), Some(100_000)));
        let codes: Vec<&str> = body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(codes.len(), 100_000);
        let (status, again) = read(handle(&app, post(c, json!({ "codes": [codes[0], "mine-0001"] }))).await);
        assert_eq!((status, again["added"].as_u64(), again["issued"].as_u64()), (200, Some(1), Some(100_001)), "{again}");
        assert_eq!(again["codes"], json!([]), "loaded codes are not sent back");
        // A stadium's batch of the operator's own codes fits in one request too (a 1.4 MB body).
        let own: Vec<String> = (0..MAX_CODES_PER_REQUEST).map(|i| format!("OWN-{i:08}")).collect();
        let (status, loaded) = read(handle(&app, post(c, json!({ "codes": own }))).await);
        assert_eq!((status, loaded["added"].as_u64(), loaded["issued"].as_u64()), (200, Some(100_000), Some(200_001)), "{loaded}");
    }

    #[tokio::test]
    async fn a_presale_code_takes_one_account_and_twenty_racing_accounts_get_one_place() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let id = &concert.concert_id;
        read(handle(&app, post(id.as_str(), json!({ "codes": ["RACE-0001", "SOLO-0002"] }))).await);
        let presale = RoomUpdateRequest { presale: Some(true), ..Default::default() }.validate().unwrap();
        app.store.queue.update(id, &presale, now_ms()).await.unwrap();
        let code = PresaleCode::parse("race0001").unwrap();
        let mut fans = Vec::new();
        for _ in 0..20 {
            fans.push(app.user().await);
        }
        let door = AtTheDoor { code: Some(&code), ..Default::default() };
        let joins = futures::future::join_all(fans.iter().map(|fan| app.store.queue.join_at_door(&fan.id, id, now_ms(), door))).await;
        let winners: Vec<usize> = joins.iter().enumerate().filter(|(_, j)| j.is_ok()).map(|(i, _)| i).collect();
        assert_eq!(winners.len(), 1, "{joins:?}");
        assert!(joins.iter().filter_map(|j| j.as_ref().err()).all(|e| e.to_string().contains("another account")), "{joins:?}");
        // The winner leaves and comes back with the same code: it is still theirs.
        let winner = &fans[winners[0]];
        let ticket = joins[winners[0]].as_ref().unwrap().ticket.clone();
        app.store.queue.leave(&ticket).await.unwrap();
        assert!(app.store.queue.join_at_door(&winner.id, id, now_ms(), door).await.unwrap().created);
        // No code, or an unknown one: refused, nothing stored.
        let other = &fans[(winners[0] + 1) % 20];
        let none = app.store.queue.join_at_door(&other.id, id, now_ms(), AtTheDoor::default()).await.unwrap_err();
        assert!(none.to_string().contains("presale code"), "{none}");
        let unknown = PresaleCode::parse("NOPE-9999").unwrap();
        let door = AtTheDoor { code: Some(&unknown), ..Default::default() };
        assert!(app
            .store
            .queue
            .join_at_door(&other.id, id, now_ms(), door)
            .await
            .unwrap_err()
            .to_string()
            .contains("no such presale code"));
        let snapshot = app.store.queue.snapshot(id, now_ms()).await.unwrap();
        assert_eq!((snapshot.waiting, snapshot.codes_issued, snapshot.codes_redeemed), (1, 2, 1));
    }

    #[tokio::test]
    async fn bad_requests_are_refused() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let c = concert.concert_id.as_str();
        for (body, status, code) in [
            (json!({}), 422, "INVALID_PRESALE_CODES"),
            (json!({ "generate": 0 }), 422, "INVALID_PRESALE_CODES"),
            (json!({ "codes": ["ok-1234", "x"] }), 422, "INVALID_PRESALE_CODE"),
            (json!({ "codes": "ABCD1234" }), 400, "INVALID_BODY"),
        ] {
            let (got, answer) = read(handle(&app, post(c, body)).await);
            assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{answer}");
        }
        let (status, answer) = read(handle(&app, post("0123456789abcdef0123456789abcdef", json!({ "generate": 1 }))).await);
        assert_eq!((status, answer["code"].as_str()), (404, Some("CONCERT_NOT_FOUND")));
        let mut unauthorized = post(c, json!({ "generate": 1 }));
        unauthorized.headers_mut().remove("x-admin-key");
        assert_eq!(read(handle(&app, unauthorized).await).0, 401);
    }
}
