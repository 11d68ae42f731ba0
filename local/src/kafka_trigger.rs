//! Lambda's Kafka event source, for one machine.
//!
//! Lambda polls the topic with a consumer group, invokes the function with a batch of records
//! (grouped by `topic-partition`, values base64) and, with `ReportBatchItemFailures`, resumes each
//! partition from the first record the function reported as failed; a failed invocation gets the
//! whole batch again. This does the same in-process: it commits, per partition, the offset after
//! the last record that succeeded and seeks back to the first failure (or, when the handler
//! failed, to the batch's first record), so nothing is lost and nothing skipped (at-least-once).

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::kafka::{KafkaEvent, KafkaRecord};
use base64::{engine::general_purpose::STANDARD, Engine};
use lambda_runtime::{Context, LambdaEvent};
use on_payment_completed::BatchResponse;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use ticketing::App;

/// A consumer group member reading `topic` from the earliest uncommitted offset.
pub fn consumer(brokers: &str, group: &str, topic: &str) -> Result<StreamConsumer, rdkafka::error::KafkaError> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}

/// Creates `topic` with `partitions` partitions unless it exists. Production topics are created
/// by operators; on one machine the gateway makes sure its topic is there.
pub async fn ensure_topic(brokers: &str, topic: &str, partitions: i32) -> Result<(), String> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::types::RDKafkaErrorCode;
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().map_err(|e| e.to_string())?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))], &options)
        .await
        .map_err(|e| format!("create topic {topic}: {e}"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(format!("create topic {topic}: {code}")),
        }
    }
    Ok(())
}

/// What one batch did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub records: usize,
    pub failed_partitions: usize,
}

/// Waits up to `wait` for a first record, gathers up to `max_records` arriving within 100 ms of
/// each other, invokes the handler with them and commits what succeeded.
pub async fn run_batch(app: &App, consumer: &StreamConsumer, max_records: usize, wait: Duration) -> Result<BatchReport, String> {
    let mut records: HashMap<String, Vec<KafkaRecord>> = HashMap::new();
    let mut count = 0;
    let mut deadline = wait;
    while count < max_records {
        let message = match tokio::time::timeout(deadline, consumer.recv()).await {
            Err(_) => break,
            Ok(Err(e)) => return Err(format!("consume: {e}")),
            Ok(Ok(m)) => m,
        };
        let mut record = KafkaRecord::default();
        record.topic = Some(message.topic().to_owned());
        record.partition = message.partition() as i64;
        record.offset = message.offset();
        record.timestamp_type = Some("CREATE_TIME".into());
        record.key = message.key().map(|k| STANDARD.encode(k));
        record.value = message.payload().map(|v| STANDARD.encode(v));
        records.entry(format!("{}-{}", message.topic(), message.partition())).or_default().push(record);
        count += 1;
        deadline = Duration::from_millis(100);
    }
    if count == 0 {
        return Ok(BatchReport::default());
    }

    let mut event = KafkaEvent::default();
    event.event_source = Some("aws:SelfManagedKafka".into());
    event.records = records.clone();
    let response: BatchResponse = match on_payment_completed::handle(app, LambdaEvent::new(event, Context::default())).await {
        Ok(response) => response,
        Err(e) => {
            // A failed invocation: like Lambda, deliver the whole batch again.
            for list in records.values() {
                let Some(first) = list.iter().min_by_key(|r| r.offset) else { continue };
                let topic = first.topic.as_deref().unwrap_or_default();
                consumer
                    .seek(topic, first.partition as i32, Offset::Offset(first.offset), Duration::from_secs(5))
                    .map_err(|e| format!("seek: {e}"))?;
            }
            return Err(format!("handler: {e}"));
        }
    };

    // Commit each partition up to its first failure (or past its last record), and rewind a
    // failed partition so the next batch starts at the failure, as Lambda does.
    let failed: HashMap<&str, i64> =
        response.batch_item_failures.iter().map(|f| (f.item_identifier.partition.as_str(), f.item_identifier.offset)).collect();
    let mut commit = TopicPartitionList::new();
    for (key, list) in &records {
        let Some(first) = list.first() else { continue };
        let topic = first.topic.as_deref().unwrap_or_default();
        let next = match failed.get(key.as_str()) {
            Some(offset) => {
                consumer
                    .seek(topic, first.partition as i32, Offset::Offset(*offset), Duration::from_secs(5))
                    .map_err(|e| format!("seek: {e}"))?;
                *offset
            }
            None => list.iter().map(|r| r.offset).max().unwrap_or(first.offset) + 1,
        };
        commit.add_partition_offset(topic, first.partition as i32, Offset::Offset(next)).map_err(|e| e.to_string())?;
    }
    // Asynchronous: a synchronous commit blocks this runtime thread, one of the gateway's two, for
    // a round trip to the broker after every batch, and every request waits behind it. What the
    // commit records is only where a restart resumes: this consumer reads on from its own
    // position, and a commit lost to a crash means a redelivery, which the ledger deduplicates.
    consumer.commit(&commit, CommitMode::Async).map_err(|e| format!("commit: {e}"))?;
    Ok(BatchReport { records: count, failed_partitions: failed.len() })
}
