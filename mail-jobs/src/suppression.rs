//! `mail-jobs suppression …`: the operator's view and repair of suppressed addresses. The product
//! keeps a mailbox's suppression (a hard bounce or a complaint, from mail-feedback) in the
//! auth-state table under the same hashed key the triggers use, so the operator types the
//! address and the tool hashes it alike; SES keeps its own account-level suppression list. `show`
//! reads both, `remove` clears both, `list` lists both (addresses masked).

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use std::collections::HashMap;
use triggers::auth_state::MailboxState;
use triggers::auth_state::delivery;
use triggers::auth_state::store::{AuthStateStore, DynamoStore, StateKey, update};

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error("{0} is not an address email can be delivered to")]
    NotAnAddress(String),
    #[error("the auth-state table: {0}")]
    Table(String),
    #[error("SES: {0}")]
    Ses(String),
}

pub struct Suppressions {
    pub table: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ses: aws_sdk_sesv2::Client,
    pub user_pool_id: String,
}

/// Where one address stands, in the product and in SES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The product's suppression: reason and when (epoch seconds).
    pub product: Option<(String, i64)>,
    /// SES's account-level suppression: reason (`BOUNCE`, `COMPLAINT`).
    pub ses: Option<String>,
}

/// One suppressed entry, as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub source: &'static str,
    /// The masked address (SES) or the start of the hashed key (the product, which keeps no address).
    pub who: String,
    pub reason: String,
    pub since: String,
}

fn ses_error<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &E) -> String {
    match e.code() {
        Some(code) => format!("{code} ({})", e.message().unwrap_or_default()),
        None => aws_sdk_sesv2::error::DisplayErrorContext(e).to_string(),
    }
}

impl Suppressions {
    fn store(&self) -> DynamoStore {
        DynamoStore::new(self.dynamodb.clone(), self.table.clone())
    }

    /// The mailbox's item and the exact address's tag in it.
    fn key(&self, address: &str) -> Result<(StateKey, String), SuppressionError> {
        let pool = &self.user_pool_id;
        match (StateKey::mailbox(pool, address), StateKey::address_tag(pool, address)) {
            (Some(mailbox), Some(tag)) => Ok((mailbox, tag)),
            _ => Err(SuppressionError::NotAnAddress(address.into())),
        }
    }

    pub async fn show(&self, address: &str) -> Result<Standing, SuppressionError> {
        let (key, tag) = self.key(address)?;
        let state =
            self.store().load::<MailboxState>(&key).await.map_err(|e| SuppressionError::Table(e.to_string()))?;
        let product = state.state.suppressed_for(&tag).map(|u| (u.reason.clone(), u.at));
        let ses = match self.ses.get_suppressed_destination().email_address(address).send().await {
            Ok(out) => out.suppressed_destination().map(|d| d.reason().as_str().to_string()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => None,
            Err(e) => return Err(SuppressionError::Ses(ses_error(&e))),
        };
        Ok(Standing { product, ses })
    }

    /// Clears the product's suppression and SES's entry; answers what was there before.
    pub async fn remove(&self, address: &str) -> Result<Standing, SuppressionError> {
        let before = self.show(address).await?;
        let (key, tag) = self.key(address)?;
        let cleared = update(&self.store(), &key, |m| delivery::unsuppress(m, &tag)).await;
        cleared.map_err(|e| SuppressionError::Table(e.to_string()))?;
        if before.ses.is_some() {
            self.ses
                .delete_suppressed_destination()
                .email_address(address)
                .send()
                .await
                .map_err(|e| SuppressionError::Ses(ses_error(&e)))?;
        }
        Ok(before)
    }

    pub async fn list(&self) -> Result<Vec<Listed>, SuppressionError> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .filter_expression("contains(#s, :u)")
                .expression_attribute_names("#s", "state")
                .expression_attribute_values(":u", aws_sdk_dynamodb::types::AttributeValue::S("\"suppressed\"".into()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| SuppressionError::Table(ses_error(&e)))?;
            for item in page.items() {
                let (Some(key), Some(state)) = (item.get("pk"), item.get("state")) else { continue };
                let (Ok(key), Ok(state)) = (key.as_s(), state.as_s()) else { continue };
                let Ok(mailbox) = serde_json::from_str::<MailboxState>(state) else { continue };
                for (tag, u) in &mailbox.suppressed {
                    out.push(Listed {
                        source: "product",
                        who: format!("mailbox {}…/{}…", &key[..key.len().min(8)], &tag[..tag.len().min(8)]),
                        reason: u.reason.clone(),
                        since: chrono::DateTime::from_timestamp(u.at, 0).unwrap_or_default().to_rfc3339(),
                    });
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        let mut token = None;
        loop {
            let page = self
                .ses
                .list_suppressed_destinations()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| SuppressionError::Ses(ses_error(&e)))?;
            for d in page.suppressed_destination_summaries() {
                out.push(Listed {
                    source: "ses",
                    who: mail_job::mask_email(d.email_address()),
                    reason: d.reason().as_str().to_string(),
                    since: d.last_update_time().to_string(),
                });
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(out)
    }
}
