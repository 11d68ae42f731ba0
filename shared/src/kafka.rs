//! Publishing PaymentCompleted events to Kafka (feature `kafka`).
//!
//! One idempotent `FutureProducer` per process (`enable.idempotence`, `acks=all`), built once at
//! cold start. (`KAFKA_IDEMPOTENCE=false` is for brokers that mishandle idempotent producers, such
//! as the Tansu build used on machines without Docker: see the README.) Events reach Kafka two ways, both from the outbox (`store/outbox.rs`):
//! - `pay` publishes its own event in a background task right after the payment (waiting at most
//!   `KAFKA_PUBLISH_TIMEOUT_MILLIS` for the acknowledgement); the answer does not wait for it;
//! - the `outbox-relay` schedule publishes whatever is still waiting, oldest first per schedule,
//!   and deletes what Kafka acknowledged.
//!
//! Either may publish an event twice (at-least-once); consumers deduplicate on `eventId`.
//!
//! With the `msk-iam` feature the producer can sign in to Amazon MSK with IAM ([`msk_iam`]), when
//! `KAFKA_SASL_MECHANISM=OAUTHBEARER`.

#[cfg(feature = "msk-iam")]
pub mod msk_iam;

use std::time::Duration;

use futures::future::join_all;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::config::KafkaSettings;
use crate::store::outbox::{OutboxEntry, OutboxStore};
use crate::store::{Store, StoreError};

/// Outbox entries read and published per schedule per relay round.
const RELAY_BATCH: u64 = 500;

/// The producer's client context: the source of IAM tokens with the `msk-iam` feature, librdkafka's
/// default otherwise.
#[cfg(feature = "msk-iam")]
type KafkaContext = msk_iam::MskIamContext;
#[cfg(not(feature = "msk-iam"))]
type KafkaContext = rdkafka::client::DefaultClientContext;

#[derive(Clone)]
pub struct PaymentEvents {
    producer: FutureProducer<KafkaContext>,
    topic: String,
    publish_timeout: Duration,
}

/// What one relay round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RelayReport {
    pub published: u64,
    /// Schedules whose outbox still holds events because Kafka refused or timed out.
    pub stalled_schedules: u64,
    /// The age of the oldest event left unpublished (0 when every event went out).
    pub oldest_unpublished_ms: u64,
}

/// Why the producer could not be made at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    #[error("KAFKA_SASL_MECHANISM=OAUTHBEARER (MSK with IAM) needs the functions built with the msk-iam feature (docs/deploy.md)")]
    NeedsMskIam,
    #[error("MSK IAM sign-in: {0}")]
    MskIam(String),
    #[error("librdkafka refused the settings: {0}")]
    Client(#[source] KafkaError),
}

/// Whether the settings sign in with OAUTHBEARER tokens, which only MSK's IAM sign-in provides.
fn wants_iam_tokens(settings: &KafkaSettings) -> bool {
    settings.client_settings.iter().any(|(key, value)| key == "sasl.mechanism" && value.trim().eq_ignore_ascii_case("OAUTHBEARER"))
}

#[cfg(feature = "msk-iam")]
fn kafka_context(settings: &KafkaSettings) -> Result<KafkaContext, ProducerError> {
    if wants_iam_tokens(settings) {
        msk_iam::MskIamContext::from_env().map_err(|e| ProducerError::MskIam(e.to_string()))
    } else {
        Ok(msk_iam::MskIamContext::without_iam())
    }
}

#[cfg(not(feature = "msk-iam"))]
fn kafka_context(settings: &KafkaSettings) -> Result<KafkaContext, ProducerError> {
    if wants_iam_tokens(settings) {
        return Err(ProducerError::NeedsMskIam);
    }
    Ok(rdkafka::client::DefaultClientContext)
}

impl PaymentEvents {
    /// The producer for `KAFKA_BROKERS`; `None` when Kafka is not configured.
    pub fn from_settings(settings: &KafkaSettings) -> Result<Option<Self>, ProducerError> {
        let Some(brokers) = &settings.brokers else { return Ok(None) };
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", brokers)
            .set("acks", "all")
            // A publish that cannot finish in this time fails; the outbox keeps the event.
            .set("message.timeout.ms", "10000")
            .set("linger.ms", "0");
        if settings.idempotence {
            client.set("enable.idempotence", "true");
        } else {
            // Without idempotence a retry may duplicate (consumers deduplicate) but, with one
            // request in flight, never reorders.
            client.set("enable.idempotence", "false").set("max.in.flight.requests.per.connection", "1");
        }
        for (key, value) in &settings.client_settings {
            client.set(key, value);
        }
        if let Some(password) = &settings.sasl_password {
            client.set("sasl.password", password.expose());
        }
        let producer = client.create_with_context(kafka_context(settings)?).map_err(ProducerError::Client)?;
        Ok(Some(PaymentEvents { producer, topic: settings.payments_topic.clone(), publish_timeout: settings.publish_timeout }))
    }

    async fn send(&self, entry: &OutboxEntry) -> Result<(), KafkaError> {
        let record = FutureRecord::to(&self.topic).key(entry.schedule_id.as_str()).payload(&entry.event);
        self.producer.send(record, Timeout::After(Duration::ZERO)).await.map(|_| ()).map_err(|(e, _)| e)
    }

    /// Publishes the event a payment just wrote in a task of its own, so the payment's answer
    /// does not wait for Kafka: the event is already in the schedule's outbox, written in the same
    /// step as the sale, and what this task does not publish (Kafka slow or down, or Lambda
    /// freezing the process before it finished) the relay does. A task and the relay may both
    /// publish one event: consumers count each event id once.
    pub fn publish_in_background(&self, outbox: OutboxStore, entry: OutboxEntry) {
        let events = self.clone();
        tokio::spawn(async move { events.publish_fresh(&outbox, &entry).await });
    }

    /// Publishes the event a payment just wrote, if nothing older of its schedule is waiting, and
    /// deletes it from the outbox once Kafka acknowledged it. Never fails: what is not published
    /// here stays in the outbox for the relay.
    pub async fn publish_fresh(&self, outbox: &OutboxStore, entry: &OutboxEntry) {
        if !entry.oldest {
            return;
        }
        match tokio::time::timeout(self.publish_timeout, self.send(entry)).await {
            Ok(Ok(())) => {
                if let Err(e) = outbox.ack(&entry.schedule_id, std::slice::from_ref(&entry.id)).await {
                    tracing::warn!(error = %e, "published, but the outbox entry stays for the relay");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "Kafka refused the event; the relay will publish it"),
            Err(_) => tracing::warn!("Kafka did not acknowledge in time; the relay will publish it"),
        }
    }

    /// Publishes every waiting event of every schedule, oldest first, and trims what Kafka
    /// acknowledged. Within a schedule a batch is sent at once (the idempotent producer keeps its
    /// order) and only the acknowledged prefix is trimmed, so nothing is skipped.
    ///
    /// `full` visits every schedule of the catalog (once an invocation, which also heals the list
    /// of schedules with events waiting); otherwise only the schedules on that list.
    pub async fn relay(&self, store: &Store, full: bool) -> Result<RelayReport, StoreError> {
        let mut report = RelayReport::default();
        let schedules = if full { store.catalog.schedule_ids().await? } else { store.outbox.pending_schedules().await? };
        for schedule in schedules {
            loop {
                let batch = store.outbox.batch(&schedule, RELAY_BATCH).await?;
                if batch.is_empty() {
                    break;
                }
                let results = join_all(batch.iter().map(|e| self.send(e))).await;
                let delivered = results.iter().take_while(|r| r.is_ok()).count();
                let ids: Vec<String> = batch[..delivered].iter().map(|e| e.id.clone()).collect();
                store.outbox.ack(&schedule, &ids).await?;
                report.published += delivered as u64;
                if let Some(Err(e)) = results.get(delivered) {
                    tracing::warn!(schedule = %schedule, error = %e, "Kafka refused an event; retrying next round");
                    report.stalled_schedules += 1;
                    // A stream entry id starts with the milliseconds it was written at.
                    let written_ms = batch[delivered].id.split('-').next().and_then(|ms| ms.parse::<u64>().ok()).unwrap_or(0);
                    let age = crate::domain::now_ms().saturating_sub(written_ms);
                    report.oldest_unpublished_ms = report.oldest_unpublished_ms.max(age);
                    break;
                }
                if (batch.len() as u64) < RELAY_BATCH {
                    break;
                }
            }
            store.outbox.track_pending(&schedule).await?;
        }
        Ok(report)
    }

    /// Waits for in-flight messages; for the graceful-shutdown hook.
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(Timeout::After(timeout)) {
            tracing::warn!(error = %e, "Kafka flush at shutdown did not finish");
        }
    }
}

/// On Lambda, flushes the producer when the runtime shuts the process down (SIGTERM), so no
/// acknowledged-but-unsent event is left behind. Where the runtime has no Extensions API (and so
/// sends no SIGTERM) the function starts all the same, with a warning (`lifecycle::on_shutdown`).
pub async fn flush_at_shutdown(events: PaymentEvents) {
    if crate::lifecycle::runtime_api().is_none() {
        return;
    }
    crate::lifecycle::on_shutdown(move || async move {
        // librdkafka's flush blocks, until nothing is in flight or for 2 s at most.
        let _ = tokio::task::spawn_blocking(move || events.flush(Duration::from_secs(2))).await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mechanism: &str) -> KafkaSettings {
        let settings = [("KAFKA_BROKERS", "127.0.0.1:9"), ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"), ("KAFKA_SASL_MECHANISM", mechanism)];
        crate::config::Config::from_lookup(|name| settings.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())).unwrap().kafka
    }

    #[cfg(not(feature = "msk-iam"))]
    #[test]
    fn iam_sign_in_without_the_msk_iam_feature_fails_the_start_and_says_what_to_build() {
        let err = PaymentEvents::from_settings(&config("OAUTHBEARER")).err().unwrap();
        assert!(matches!(err, ProducerError::NeedsMskIam) && err.to_string().contains("msk-iam feature"), "{err}");
    }

    #[test]
    fn other_mechanisms_need_no_iam() {
        assert!(!wants_iam_tokens(&config("SCRAM-SHA-512")));
        assert!(wants_iam_tokens(&config("oauthbearer")));
    }
}
