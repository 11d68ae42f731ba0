//! Kafka trigger: counts each PaymentCompleted event once in the sales ledger.
//! `main.rs` runs this handler on Lambda (MSK or self-managed Kafka event source); the local
//! event-source runner calls it in-process with the same payload.
//!
//! Each record is applied idempotently (deduplicated by `eventId`), so redelivery is harmless, in
//! offset order within its partition, however the batch lists them. A malformed record, and an
//! event of a schedule that does not exist here, are logged and skipped: they could never
//! succeed, and must not block their partition. A record that fails for a passing reason (Redis down) stops its partition: the
//! records after it are not applied in this invocation, so the ledger sees each partition in
//! order, and other partitions go on. What happens next depends on the event source:
//!
//! - with partial batch responses (`KAFKA_PARTIAL_BATCH_RESPONSES=true`; Lambda offers
//!   `ReportBatchItemFailures` for Kafka in provisioned mode), the failure is reported as
//!   `{"partition": "<topic>-<n>", "offset": n}`, the shape the Lambda guide documents ("Configuring
//!   error handling controls for Kafka event sources"); Lambda commits the partition up to it and
//!   delivers again from there;
//! - without them (on-demand mode, where Lambda ignores such a response and would take the batch
//!   as done), the invocation fails, and Lambda delivers the whole batch again.

use aws_lambda_events::kafka::{KafkaEvent, KafkaRecord};
use base64::{engine::general_purpose::STANDARD, Engine};
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use ticketing::domain::events::PaymentCompleted;
use ticketing::metrics::{Line, Unit};
use ticketing::store::outbox::Sale;
use ticketing::App;

/// The partial batch response (`ReportBatchItemFailures`).
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: ItemIdentifier,
}

/// A Kafka record, as the Lambda guide documents it for Kafka: `partition` is the
/// `<topic>-<partition>` key of the event's record map, `offset` a number.
#[derive(Debug, Serialize, PartialEq)]
pub struct ItemIdentifier {
    pub partition: String,
    pub offset: i64,
}

pub async fn handle(app: &App, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    let mut response = BatchResponse::default();
    let (mut counted, mut duplicates, mut malformed, mut unknown) = (0u32, 0u32, 0u32, 0u32);
    for (partition, records) in event.payload.records {
        let mut records = records;
        records.sort_by_key(|r| r.offset);
        for record in records {
            let parsed = decode(&record);
            let event = match parsed {
                Ok(event) => event,
                Err(reason) => {
                    tracing::error!(%partition, offset = record.offset, %reason, "skipping a malformed record");
                    malformed += 1;
                    continue;
                }
            };
            match app.store.outbox.apply_sale(&event).await {
                Ok(Sale::Counted) => counted += 1,
                Ok(Sale::Duplicate) => duplicates += 1,
                Ok(Sale::UnknownSchedule) => {
                    tracing::error!(%partition, offset = record.offset, schedule = %event.schedule_id, "skipping an event of a schedule that does not exist here");
                    unknown += 1;
                }
                Err(e) => {
                    tracing::warn!(%partition, offset = record.offset, error = %e, "will be retried from here");
                    response
                        .batch_item_failures
                        .push(BatchItemFailure { item_identifier: ItemIdentifier { partition: partition.clone(), offset: record.offset } });
                    break;
                }
            }
        }
    }
    let failed = response.batch_item_failures.len();
    tracing::info!(counted, duplicates, malformed, unknown, failed, "batch applied");
    Line::new(ticketing::domain::now_ms()).metric("Sales", Unit::Count, f64::from(counted)).emit();
    if failed > 0 && !app.config.kafka.partial_batch_responses {
        return Err(format!("{failed} partition(s) stopped at a record that failed; the batch will be delivered again").into());
    }
    Ok(response)
}

fn decode(record: &KafkaRecord) -> Result<PaymentCompleted, String> {
    let value = record.value.as_deref().ok_or("the record has no value")?;
    let bytes = STANDARD.decode(value).map_err(|e| format!("value is not base64: {e}"))?;
    PaymentCompleted::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use ticketing::domain::ids::ScheduleId;
    use ticketing::testing::TestApp;

    fn record(offset: i64, value: Option<String>) -> KafkaRecord {
        let mut r = KafkaRecord::default();
        r.topic = Some("payment-completed".into());
        r.partition = 0;
        r.offset = offset;
        r.value = value.map(|v| STANDARD.encode(v));
        r
    }

    fn sale(schedule: &ScheduleId, event_id: &str, amount: u64) -> String {
        serde_json::json!({
            "schemaVersion": 1, "type": "PaymentCompleted", "eventId": event_id, "paymentId": "p",
            "reservationId": "r", "userId": "u", "concertId": "c", "scheduleId": schedule,
            "seatNumber": 1, "amount": amount, "paidAt": "2026-11-25T12:00:00.000Z"
        })
        .to_string()
    }

    fn batch(records: Vec<KafkaRecord>) -> LambdaEvent<KafkaEvent> {
        let mut event = KafkaEvent::default();
        event.event_source = Some("aws:SelfManagedKafka".into());
        event.records.insert("payment-completed-0".into(), records);
        LambdaEvent::new(event, Context::default())
    }

    #[tokio::test]
    async fn the_same_batch_twice_and_a_malformed_record_leave_the_ledger_exact() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 100).await;
        let sid = concert.schedules[0].schedule_id.clone();
        let records = || {
            vec![
                record(0, Some(sale(&sid, "e1", 100))),
                record(1, Some("{not json".into())),
                record(2, None),
                record(3, Some(sale(&sid, "e2", 250))),
                record(4, Some(sale(&sid, "e1", 100))),
            ]
        };
        for _ in 0..2 {
            let response = handle(&app, batch(records())).await.unwrap();
            assert_eq!(response, BatchResponse::default());
        }
        let sales = app.store.sales().await.unwrap();
        assert_eq!((sales[0].sold_seats, sales[0].revenue), (2, 350));
    }

    #[tokio::test]
    async fn the_real_lambda_payload_shape_is_understood() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 100).await;
        let sid = &concert.schedules[0].schedule_id;
        let mut event: KafkaEvent = serde_json::from_str(include_str!("../../../local/events/on-payment-completed.json")).unwrap();
        // The fixture's event names a demo schedule; point it at this test's.
        for record in event.records.values_mut().flatten() {
            record.value = Some(STANDARD.encode(sale(sid, "fixture-event", 55_000)));
        }
        let response = handle(&app, LambdaEvent::new(event, Context::default())).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(app.store.sales().await.unwrap()[0].revenue, 55_000);
        let json = serde_json::to_value(BatchResponse {
            batch_item_failures: vec![BatchItemFailure { item_identifier: ItemIdentifier { partition: "t-0".into(), offset: 7 } }],
        })
        .unwrap();
        assert_eq!(json, serde_json::json!({"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 7}}]}));
    }

    /// Two partitions: in partition 0 the record at offset 11 names a schedule whose ledger key
    /// holds the wrong type, so applying it fails in Redis until the key is repaired.
    fn batch_with_a_failing_record(good: &ScheduleId, broken: &ScheduleId) -> KafkaEvent {
        let mut event = KafkaEvent::default();
        event.records.insert(
            "payment-completed-0".into(),
            vec![record(10, Some(sale(good, "a", 100))), record(11, Some(sale(broken, "b", 100))), record(12, Some(sale(good, "c", 100)))],
        );
        let mut other = record(5, Some(sale(good, "d", 100)));
        other.partition = 1;
        event.records.insert("payment-completed-1".into(), vec![other]);
        event
    }

    /// An app with two schedules, where applying an event of the second (broken) one fails in
    /// Redis until its ledger key, which holds the wrong type, is deleted.
    async fn app_with_a_broken_schedule(partial_batch_responses: bool) -> (TestApp, ScheduleId, ScheduleId) {
        use fred::prelude::*;
        let app = TestApp::spawn_with(|c| c.kafka.partial_batch_responses = partial_batch_responses).await;
        let good = app.concert(10, 100).await.schedules[0].schedule_id.clone();
        let broken = app.concert(10, 100).await.schedules[0].schedule_id.clone();
        let redis = app.raw_redis().await;
        redis.set::<(), _, _>(app.keys().schedule_ledger(&broken), "not a hash", None, None, false).await.unwrap();
        (app, good, broken)
    }

    #[tokio::test]
    async fn without_partial_batch_responses_a_failing_record_fails_the_batch_and_the_redelivery_counts_each_once() {
        use fred::prelude::*;
        let (app, good, broken) = app_with_a_broken_schedule(false).await;
        let (keys, redis) = (app.keys(), app.raw_redis().await);

        let err = handle(&app, LambdaEvent::new(batch_with_a_failing_record(&good, &broken), Context::default())).await.unwrap_err();
        assert!(err.to_string().contains("delivered again"), "{err}");
        let counted: Option<u64> = redis.hget(keys.schedule_ledger(&good), "soldSeats").await.unwrap();
        assert_eq!(counted, Some(2), "a and d were applied, c waits behind the failure");

        // Lambda delivers the same batch again: a and d are duplicates, b and c count once.
        redis.del::<(), _>(keys.schedule_ledger(&broken)).await.unwrap();
        let response = handle(&app, LambdaEvent::new(batch_with_a_failing_record(&good, &broken), Context::default())).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        let sales = app.store.sales().await.unwrap();
        let sold = |s: &ScheduleId| sales.iter().find(|x| &x.schedule_id == s).map(|x| x.sold_seats);
        assert_eq!((sold(&good), sold(&broken)), (Some(3), Some(1)));
    }

    #[tokio::test]
    async fn a_failing_record_stops_its_partition_only_and_is_delivered_again_from_there() {
        use fred::prelude::*;
        let (app, good, broken) = app_with_a_broken_schedule(true).await;
        let (keys, redis) = (app.keys(), app.raw_redis().await);

        let event = batch_with_a_failing_record(&good, &broken);
        let response = handle(&app, LambdaEvent::new(event, Context::default())).await.unwrap();
        assert_eq!(
            response.batch_item_failures,
            vec![BatchItemFailure { item_identifier: ItemIdentifier { partition: "payment-completed-0".into(), offset: 11 } }]
        );
        let counted: Option<u64> = redis.hget(keys.schedule_ledger(&good), "soldSeats").await.unwrap();
        assert_eq!(counted, Some(2), "a and d, not c after the failure");
        let ledger = |sales: Vec<ticketing::store::outbox::ScheduleSales>, s: &ScheduleId| {
            sales.into_iter().find(|x| &x.schedule_id == s).map(|x| x.sold_seats)
        };

        // Fixed, the partition is delivered again from the failed offset: each event once.
        redis.del::<(), _>(keys.schedule_ledger(&broken)).await.unwrap();
        let mut again = KafkaEvent::default();
        again
            .records
            .insert("payment-completed-0".into(), vec![record(11, Some(sale(&broken, "b", 100))), record(12, Some(sale(&good, "c", 100)))]);
        assert!(handle(&app, LambdaEvent::new(again, Context::default())).await.unwrap().batch_item_failures.is_empty());
        let sales = app.store.sales().await.unwrap();
        assert_eq!((ledger(sales.clone(), &good), ledger(sales, &broken)), (Some(3), Some(1)));
    }

    #[tokio::test]
    async fn an_uncountable_amount_writes_nothing() {
        let app = TestApp::spawn().await;
        let schedule = app.concert(10, 100).await.schedules[0].schedule_id.clone();
        let mut event = PaymentCompleted::parse(sale(&schedule, "e", 100).as_bytes()).unwrap();
        event.amount = u64::MAX;
        assert!(app.store.outbox.apply_sale(&event).await.is_err());
        assert_eq!((app.store.sales().await.unwrap()[0].sold_seats, app.store.sales().await.unwrap()[0].revenue), (0, 0));
        event.amount = 100;
        assert_eq!(app.store.outbox.apply_sale(&event).await.unwrap(), Sale::Counted, "not marked as counted by the refused attempt");
        assert_eq!(app.store.sales().await.unwrap()[0].revenue, 100);
    }

    #[tokio::test]
    async fn an_event_of_an_unknown_schedule_is_skipped_and_counted_nowhere() {
        let app = TestApp::spawn().await;
        let known = app.concert(10, 100).await.schedules[0].schedule_id.clone();
        let unknown = ScheduleId::parse("00000000000000000000000000000bad").unwrap();
        let response = handle(
            &app,
            batch(vec![
                record(0, Some(sale(&unknown, "x", 100))),
                record(1, Some(sale(&known, "y", 100))),
                record(2, Some(sale(&unknown, "z", 5))),
            ]),
        )
        .await
        .unwrap();
        assert!(response.batch_item_failures.is_empty(), "it must not block its partition");
        let sales = app.store.sales().await.unwrap();
        let known_sales = sales.iter().find(|s| s.schedule_id == known).unwrap();
        assert_eq!((known_sales.sold_seats, known_sales.revenue), (1, 100));
        assert!(sales.iter().all(|s| s.schedule_id != unknown));
        let redis = app.raw_redis().await;
        let ledger: Option<u64> =
            fred::prelude::HashesInterface::hget(&redis, app.keys().schedule_ledger(&unknown), "soldSeats").await.unwrap();
        assert_eq!(ledger, None, "nothing was written for the unknown schedule");
    }

    #[tokio::test]
    async fn a_batch_out_of_order_is_applied_in_offset_order_and_stops_at_the_first_failure_by_offset() {
        use fred::prelude::*;
        let (app, good, broken) = app_with_a_broken_schedule(true).await;
        let (keys, redis) = (app.keys(), app.raw_redis().await);
        // Listed 12, 10, 11: 10 counts, 11 fails, 12 waits although it came first in the list.
        let mut event = KafkaEvent::default();
        event.records.insert(
            "payment-completed-0".into(),
            vec![
                record(12, Some(sale(&good, "c", 100))),
                record(10, Some(sale(&good, "a", 100))),
                record(11, Some(sale(&broken, "b", 100))),
            ],
        );
        let response = handle(&app, LambdaEvent::new(event, Context::default())).await.unwrap();
        assert_eq!(
            response.batch_item_failures,
            vec![BatchItemFailure { item_identifier: ItemIdentifier { partition: "payment-completed-0".into(), offset: 11 } }]
        );
        let counted: Option<u64> = redis.hget(keys.schedule_ledger(&good), "soldSeats").await.unwrap();
        assert_eq!(counted, Some(1), "a only");
    }
}
