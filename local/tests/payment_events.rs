//! Payment events end to end against a real Kafka-compatible broker (Tansu, started per test on
//! its own port, so a test may stop it) and the real Redis: the pay handler, the outbox relay,
//! the event-source runner and the on-payment-completed handler.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use futures::future::join_all;
use lambda_http::http::Method;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use serde_json::{json, Value};
use ticketing::domain::ids::ScheduleId;
use ticketing::domain::inputs::SeatNumber;
use ticketing::domain::now_ms;
use ticketing::testing::{read, request, signed, TansuBroker, TestApp, TestUser};

async fn create_topic(brokers: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", brokers).create().unwrap();
    let topics = [NewTopic::new(topic, 3, TopicReplication::Fixed(1))];
    let results = admin.create_topics(&topics, &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)))).await.unwrap();
    for r in results {
        // A producer that queued events while the broker was down may have re-created it already.
        if let Err((_, code)) = r {
            assert_eq!(code, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists);
        }
    }
}

/// Reads the topic with a fresh consumer group until it has seen `expected` distinct events (or
/// 30 s), then 1 s more, so duplicates that follow are seen too.
async fn read_topic(brokers: &str, topic: &str, expected: usize) -> Vec<(i32, i64, Value)> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{:x}", rand_u64()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out: Vec<(i32, i64, Value)> = Vec::new();
    let mut ids = HashSet::new();
    let started = Instant::now();
    let mut complete_at = None;
    while started.elapsed() < Duration::from_secs(30) && complete_at.is_none_or(|t: Instant| t.elapsed() < Duration::from_secs(1)) {
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await {
            let event: Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
            ids.insert(event["eventId"].as_str().unwrap().to_owned());
            out.push((m.partition(), m.offset(), event));
        }
        if ids.len() >= expected && complete_at.is_none() {
            complete_at = Some(Instant::now());
        }
    }
    out
}

fn rand_u64() -> u64 {
    now_ms() ^ (std::process::id() as u64) << 32
}

/// An app with the Kafka producer `pay` and `outbox-relay` have.
async fn app_with_kafka(brokers: &str, topic: &str, publish_timeout: Duration) -> TestApp {
    ticketing::telemetry::init();
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    TestApp::spawn_with(move |c| {
        c.kafka.brokers = Some(brokers);
        c.kafka.payments_topic = topic;
        c.kafka.publish_timeout = publish_timeout;
    })
    .await
    .with_payment_events()
}

/// A user holding `seat`, paying through the real pay handler.
async fn hold_and_pay(app: &TestApp, schedule: &ScheduleId, seat: i64, price: u64) -> Value {
    let concert = app.store.catalog.concerts().await.unwrap().into_iter().find(|c| &c.schedules[0].schedule_id == schedule).unwrap();
    let user: TestUser = app.admitted_user_in(&concert.concert_id, price).await;
    let held = app
        .store
        .booking
        .hold(
            user.ticket.as_ref().unwrap(),
            schedule,
            SeatNumber::parse(seat).unwrap(),
            now_ms(),
            ticketing::testing::policies::MINUTE_HOLD,
        )
        .await
        .unwrap();
    let req = signed(request(Method::POST, "/payments", Some(json!({ "reservationId": held.reservation_id }))), &user);
    let (status, body) = read(pay::handle(app, req).await);
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn each_payment_produces_its_event_in_order_per_schedule_with_its_fields() {
    let broker = TansuBroker::start();
    let topic = format!("payments-{:x}", rand_u64());
    create_topic(&broker.address(), &topic).await;
    // Kafka is up (a generous timeout for the cold producer).
    let app = app_with_kafka(&broker.address(), &topic, Duration::from_secs(10)).await;
    let a = app.concert(10, 1_000).await;
    let b = app.concert(10, 2_000).await;
    let (sa, sb) = (a.schedules[0].schedule_id.clone(), b.schedules[0].schedule_id.clone());
    // pay answers before Kafka acknowledges, and publishes in the background: the event arrives
    // with no relay run.
    let mut payments = vec![hold_and_pay(&app, &sa, 1, 1_000).await];
    let first = read_topic(&broker.address(), &topic, 1).await;
    assert_eq!(first.first().map(|(_, _, e)| e["paymentId"].clone()), Some(payments[0]["paymentId"].clone()));
    payments.push(hold_and_pay(&app, &sb, 1, 2_000).await);
    for seat in 2..=4 {
        payments.push(hold_and_pay(&app, &sa, seat, 1_000).await);
        payments.push(hold_and_pay(&app, &sb, seat, 2_000).await);
    }
    // What the payments' own tasks did not publish (an event waits while an older one of its
    // schedule is in flight), the relay does; then the outboxes are empty.
    let started = Instant::now();
    while app.store.outbox.pending(&sa).await.unwrap() + app.store.outbox.pending(&sb).await.unwrap() > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the outboxes did not drain");
        app.events().unwrap().relay(&app.store, false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = read_topic(&broker.address(), &topic, 8).await;
    // Each payment's event, with the payment's fields; a task and the relay may both have sent
    // one event (at-least-once), as the same event: consumers count its id once.
    for p in &payments {
        let matching: Vec<_> = got.iter().filter(|(_, _, e)| e["paymentId"] == p["paymentId"]).collect();
        assert!(!matching.is_empty(), "{p}");
        assert!(matching.iter().all(|(_, _, e)| e == &matching[0].2), "copies of one event are the same event");
        let e = &matching[0].2;
        for field in ["reservationId", "concertId", "scheduleId", "seatNumber", "amount", "paidAt"] {
            assert_eq!(e[field], p[field], "{field}");
        }
        assert_eq!((e["schemaVersion"].as_u64(), e["type"].as_str()), (Some(1), Some("PaymentCompleted")));
        assert!(e["eventId"].is_string() && e["userId"].is_string());
    }
    // One schedule's events sit in one partition, first copies in the order they were paid.
    let mut by_schedule: BTreeMap<String, Vec<(i32, i64, u64)>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for (partition, offset, e) in &got {
        let list = by_schedule.entry(e["scheduleId"].as_str().unwrap().to_owned()).or_default();
        assert!(list.iter().all(|(p, _, _)| p == partition), "one partition per schedule");
        if seen.insert(e["eventId"].as_str().unwrap().to_owned()) {
            list.push((*partition, *offset, e["seatNumber"].as_u64().unwrap()));
        }
    }
    for (_, mut list) in by_schedule {
        list.sort_by_key(|(_, offset, _)| *offset);
        assert_eq!(list.iter().map(|(_, _, seat)| *seat).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_down_during_200_payments_loses_nothing_and_the_ledger_counts_each_once() {
    let mut broker = TansuBroker::start();
    let port = broker.port;
    let topic = format!("payments-{:x}", rand_u64());
    create_topic(&broker.address(), &topic).await;
    let app = app_with_kafka(&broker.address(), &topic, Duration::from_millis(300)).await;
    let concert = app.concert(200, 500).await;
    let schedule = concert.schedules[0].schedule_id.clone();

    broker.stop();
    let started = Instant::now();
    let paid = join_all((1..=200).map(|seat| hold_and_pay(&app, &schedule, seat, 500))).await;
    assert_eq!(paid.len(), 200);
    println!("200 payments with Kafka down took {:?}", started.elapsed());
    // The payments' own publish tasks give up after the publish timeout (300 ms here).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.store.outbox.pending(&schedule).await.unwrap(), 200, "every event waits in the outbox");

    // Kafka comes back (empty: Tansu here keeps topics in memory) and the outbox-relay function
    // runs, one tick per invocation, until the outbox is empty: it publishes each event once.
    let broker = TansuBroker::start_on(port);
    create_topic(&broker.address(), &topic).await;
    let relay_started = Instant::now();
    let mut published = 0;
    while app.store.outbox.pending(&schedule).await.unwrap() > 0 {
        assert!(relay_started.elapsed() < Duration::from_secs(60), "the relay did not drain the outbox");
        let mut context = lambda_runtime::Context::default();
        context.deadline = now_ms() + 60_000;
        let event = lambda_runtime::LambdaEvent::new(json!({"detail": {"maxSeconds": 0}}), context);
        let out = outbox_relay::handle(&app, event).await.unwrap();
        assert_eq!(out["ticks"], 1, "{out}");
        published += out["published"].as_u64().unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(published, 200, "the relay published every waiting event once");

    let records = read_topic(&broker.address(), &topic, 200).await;
    let ids: HashSet<&str> = records.iter().map(|(_, _, e)| e["eventId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 200, "all 200 events are in the topic");
    println!("{} records for 200 events (an event published both at payment time and by the relay appears twice)", records.len());

    // The event-source runner feeds the topic to on-payment-completed; the ledger counts each once.
    let consumer = local_stack::kafka_trigger::consumer(&broker.address(), &format!("ledger-{:x}", rand_u64()), &topic).unwrap();
    let consumed_started = Instant::now();
    loop {
        local_stack::kafka_trigger::run_batch(&app, &consumer, 100, Duration::from_secs(1)).await.unwrap();
        let sales = app.store.sales().await.unwrap();
        if sales[0].sold_seats >= 200 || consumed_started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    // Whatever duplicates Kafka still delivers change nothing.
    local_stack::kafka_trigger::run_batch(&app, &consumer, 500, Duration::from_secs(2)).await.unwrap();
    let sales = app.store.sales().await.unwrap();
    assert_eq!((sales[0].sold_seats, sales[0].revenue), (200, 200 * 500));
}

/// Lambda's event source, as `kafka-trigger` runs it, in both of its modes: a record that fails
/// for a passing reason is delivered again until it succeeds, the records behind it in its
/// partition wait, and the ledger ends with each event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_fails_is_delivered_again_until_it_counts_with_or_without_partial_batch_responses() {
    use fred::prelude::*;
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let broker = TansuBroker::start();
    for partial in [false, true] {
        let topic = format!("payments-{:x}", rand_u64());
        create_topic(&broker.address(), &topic).await;
        let app = TestApp::spawn_with(|c| c.kafka.partial_batch_responses = partial).await;
        let good = app.concert(10, 100).await.schedules[0].schedule_id.clone();
        let broken = app.concert(10, 100).await.schedules[0].schedule_id.clone();
        // Applying an event of the broken schedule fails in Redis until its ledger key is repaired.
        let (keys, redis) = (app.keys(), app.raw_redis().await);
        redis.set::<(), _, _>(keys.schedule_ledger(&broken), "not a hash", None, None, false).await.unwrap();

        let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", broker.address()).create().unwrap();
        for (id, schedule) in [("a", &good), ("b", &broken), ("c", &good)] {
            let event = json!({
                "schemaVersion": 1, "type": "PaymentCompleted", "eventId": format!("{id}-{partial}"), "paymentId": id,
                "reservationId": id, "userId": "u", "concertId": "c", "scheduleId": schedule,
                "seatNumber": 1, "amount": 100, "paidAt": "2026-11-26T12:00:00.000Z"
            })
            .to_string();
            let record = FutureRecord::<str, str>::to(&topic).partition(0).key(id).payload(&event);
            producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e).unwrap();
        }

        let consumer = local_stack::kafka_trigger::consumer(&broker.address(), &format!("ledger-{:x}", rand_u64()), &topic).unwrap();
        let sold = |sales: &[ticketing::store::outbox::ScheduleSales], s: &ScheduleId| {
            sales.iter().find(|x| &x.schedule_id == s).map_or(0, |x| x.sold_seats)
        };
        for _ in 0..2 {
            let outcome = local_stack::kafka_trigger::run_batch(&app, &consumer, 100, Duration::from_secs(5)).await;
            match (partial, outcome) {
                (false, Err(e)) => assert!(e.contains("delivered again"), "{e}"),
                (true, Ok(report)) => assert_eq!(report.failed_partitions, 1),
                (_, other) => panic!("partial={partial}: {other:?}"),
            }
            let counted: Option<u64> = redis.hget(keys.schedule_ledger(&good), "soldSeats").await.unwrap();
            assert_eq!(counted, Some(1), "partial={partial}: a counted once, c waits behind b");
        }
        redis.del::<(), _>(keys.schedule_ledger(&broken)).await.unwrap();
        let report = local_stack::kafka_trigger::run_batch(&app, &consumer, 100, Duration::from_secs(5)).await.unwrap();
        assert_eq!(report.failed_partitions, 0);
        let sales = app.store.sales().await.unwrap();
        assert_eq!((sold(&sales, &good), sold(&sales, &broken)), (2, 1), "partial={partial}: each event once");
    }
}
