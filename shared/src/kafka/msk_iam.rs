//! Signing in to Amazon MSK with IAM (feature `msk-iam`).
//!
//! MSK's IAM listener (port 9098) takes SASL/OAUTHBEARER tokens that are SigV4-presigned
//! `kafka-cluster:Connect` requests. librdkafka asks its client context for a token when it first
//! connects and again before the last one expires (at 80 % of its 15 minutes); the
//! `aws-msk-iam-sasl-signer` crate signs it with the role credentials Lambda puts in the
//! function's environment, for the Region in `AWS_REGION`.

use std::error::Error;
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::Region;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use rdkafka::client::{ClientContext, OAuthToken};

/// How long one signing may take before librdkafka is told it failed (it asks again).
const SIGNING_TIMEOUT: Duration = Duration::from_secs(10);

/// The producer's client context: the source of OAUTHBEARER tokens when the settings ask for
/// them (`KAFKA_SASL_MECHANISM=OAUTHBEARER`), otherwise nothing (librdkafka never asks).
pub struct MskIamContext {
    signer: Option<Signer>,
}

#[derive(Clone)]
struct Signer {
    region: Region,
    credentials: SharedCredentialsProvider,
}

impl MskIamContext {
    /// For a producer that does not sign in with IAM.
    pub fn without_iam() -> Self {
        MskIamContext { signer: None }
    }

    /// Signs with the credentials of the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, which Lambda sets from the function's role)
    /// for `AWS_REGION`.
    pub fn from_env() -> Result<Self, String> {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .map_err(|_| "MSK IAM sign-in needs AWS_REGION (Lambda sets it)".to_owned())?;
        let credentials = SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new());
        Ok(MskIamContext { signer: Some(Signer { region: Region::new(region), credentials }) })
    }

    /// Signs with the given credentials (tests).
    pub fn with_credentials(region: &str, credentials: Credentials) -> Self {
        let signer = Signer { region: Region::new(region.to_owned()), credentials: SharedCredentialsProvider::new(credentials) };
        MskIamContext { signer: Some(signer) }
    }

    /// A fresh token and its expiry (epoch ms).
    ///
    /// librdkafka calls for tokens from its polling thread, and now and then from a thread of the
    /// async runtime (a flush at shutdown), while the signer is async. A short-lived thread with a
    /// runtime of its own runs the signing, so neither case blocks or re-enters the app's runtime;
    /// it happens once every 12 minutes or so.
    pub fn token(&self) -> Result<(String, i64), String> {
        let Signer { region, credentials } = self.signer.clone().ok_or("no IAM signer: KAFKA_SASL_MECHANISM is not OAUTHBEARER")?;
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let signing = aws_msk_iam_sasl_signer::generate_auth_token_from_credentials_provider(region, credentials);
                match tokio::time::timeout(SIGNING_TIMEOUT, signing).await {
                    Ok(Ok(token)) => Ok(token),
                    Ok(Err(e)) => Err(format!("signing the MSK IAM token: {e}")),
                    Err(_) => Err(format!("signing the MSK IAM token took over {SIGNING_TIMEOUT:?}")),
                }
            })
        })
        .join()
        .map_err(|_| "the MSK IAM signing thread panicked".to_owned())?
    }
}

impl ClientContext for MskIamContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(&self, _oauthbearer_config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        let (token, lifetime_ms) = self.token().inspect_err(|e| tracing::error!(error = %e, "no MSK IAM token"))?;
        Ok(OAuthToken { token, principal_name: String::new(), lifetime_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn query(url: &str, key: &str) -> Option<String> {
        url.split_once('?')?.1.split('&').find_map(|pair| pair.strip_prefix(&format!("{key}="))).map(str::to_owned)
    }

    #[tokio::test]
    async fn the_token_is_a_presigned_connect_request_for_the_region_that_lives_15_minutes() {
        let context =
            MskIamContext::with_credentials("eu-west-1", Credentials::new("AKIDEXAMPLE", "secret", Some("session".into()), None, "test"));
        let before = crate::domain::now_ms() as i64;
        // Called from a runtime thread, as a flush at shutdown would: must not block or panic.
        let token = context.generate_oauth_token(None).unwrap();
        let url = String::from_utf8(URL_SAFE_NO_PAD.decode(&token.token).unwrap()).unwrap();
        assert!(url.starts_with("https://kafka.eu-west-1.amazonaws.com/?"), "{url}");
        assert_eq!(query(&url, "Action").as_deref(), Some("kafka-cluster%3AConnect"), "{url}");
        assert!(query(&url, "X-Amz-Credential").unwrap().starts_with("AKIDEXAMPLE%2F"), "{url}");
        assert_eq!(query(&url, "X-Amz-Security-Token").as_deref(), Some("session"), "{url}");
        assert_eq!(query(&url, "X-Amz-Expires").as_deref(), Some("900"), "{url}");
        assert!(query(&url, "X-Amz-Signature").is_some_and(|s| s.len() == 64), "{url}");
        assert!((before + 899_000..=crate::domain::now_ms() as i64 + 900_000).contains(&token.lifetime_ms), "{}", token.lifetime_ms);
        assert!(token.principal_name.is_empty());
    }

    #[test]
    fn a_producer_without_iam_refuses_to_make_tokens() {
        assert!(MskIamContext::without_iam().generate_oauth_token(None).is_err());
    }
}
