//! create-auth-challenge: asks the shared auth state what this round does (reuse the active code,
//! send a new one, or refuse: [`crate::auth_state::start`]), checks the recipient mailbox's hourly
//! budget, puts a `login_link` mail job on the queue when a code is sent, and tells the client when
//! its email went out.

use crate::auth_state::delivery::{self, DeliveryStatus};
use crate::auth_state::mailbox::Reserve;
use crate::auth_state::store::{AuthStateStore, StateKey, update};
use crate::auth_state::{self, ActiveCode, Hold, Limits, ResendRefused, Start, UserState};
use crate::code::{self, OneTimeCode};
use crate::decoy::{self, LatencyMirror};
use crate::link::LoginUrl;
use crate::mail_queue::MailQueue;
use crate::{CUSTOM_CHALLENGE, TriggerError, passkey, resend};
use aws_lambda_events::event::cognito::CognitoEventUserPoolsCreateAuthChallenge;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use lambda_support::{ConfigError, Env};
use mail_job::{DeliveryId, JobId, LoginLinkData, MailContent, MailJob, Recipient, mask_email};
use tokio::time::Instant;

/// `CODE_TTL_SECONDS` bounds: a Cognito session lives 3 to 15 minutes.
pub const TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=900;

/// How a refused sign-in reads inside Cognito's `UserLambdaValidationException` message
/// ("CreateAuthChallenge failed with error TooManyEmails retryAfter=720."): the auth API looks for
/// it (auth-api/src/error.rs), so it is a contract.
pub const REFUSAL: &str = "TooManyEmails retryAfter=";

/// What the challenge tells about the address the email went to (`EMAIL_HINT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailHint {
    /// Nothing (the default): the page says "your email address". No existence oracle.
    None,
    /// `a***@example.com`: helps a user with several addresses, and tells anyone who knows or
    /// guesses an address whether the account exists (docs/user-existence.md).
    Masked,
}

impl EmailHint {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.optional("EMAIL_HINT") {
            None | Some("none") => Ok(EmailHint::None),
            Some("masked") => Ok(EmailHint::Masked),
            Some(other) => {
                Err(ConfigError::Invalid { name: "EMAIL_HINT", reason: format!("takes none or masked, not {other}") })
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct CreateConfig {
    pub queue_url: String,
    pub login_url: LoginUrl,
    pub code_length: usize,
    pub code_ttl_seconds: i64,
    pub limits: Limits,
    pub email_hint: EmailHint,
}

impl CreateConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue_url = env.required("MAIL_QUEUE_URL")?.to_string();
        let login_url = LoginUrl::parse(env.required("LOGIN_URL")?)
            .map_err(|reason| ConfigError::Invalid { name: "LOGIN_URL", reason })?;
        Ok(CreateConfig {
            queue_url,
            login_url,
            code_length: env.integer_in("CODE_LENGTH", code::DEFAULT_LENGTH, code::LENGTH_RANGE)?,
            code_ttl_seconds: env.integer_in("CODE_TTL_SECONDS", 180, TTL_RANGE)?,
            limits: Limits::from_env(env)?,
            email_hint: EmailHint::from_env(env)?,
        })
    }
}

/// What a round does: the email path ([`auth_state::start`]), or a passkey challenge that
/// carries the proof's digest ([`passkey`]).
enum Round {
    Email(Start),
    Passkey(String),
}

/// Where a real user's email goes: the address as the user has it, the mailbox it counts against,
/// and whether the user has proved it (`email_verified`).
struct Destination<'a> {
    email: &'a str,
    mailbox: StateKey,
    /// The exact address's tag: what a bounce or a complaint suppresses.
    address: String,
    verified: bool,
}

/// The use case, built once per process with its queue and state-store adapters.
pub struct CreateChallenge<Q, S> {
    config: CreateConfig,
    queue: Q,
    store: S,
    latency: LatencyMirror,
}

fn rfc3339(t: i64) -> String {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<Q: MailQueue, S: AuthStateStore> CreateChallenge<Q, S> {
    pub fn new(config: CreateConfig, queue: Q, store: S) -> Self {
        CreateChallenge { config, queue, store, latency: LatencyMirror::default() }
    }

    pub async fn handle(
        &self,
        mut event: CognitoEventUserPoolsCreateAuthChallenge,
        now: DateTime<Utc>,
    ) -> Result<CognitoEventUserPoolsCreateAuthChallenge, TriggerError> {
        let header = &event.cognito_event_user_pools_header;
        let (username, key) = StateKey::of_event(header, "CreateAuthChallenge")?;
        let username = username.to_string();
        let pool = header.user_pool_id.clone().unwrap_or_default();
        if event.request.challenge_name.as_deref() != Some(CUSTOM_CHALLENGE) {
            return Err("CreateAuthChallenge called for a challenge other than CUSTOM_CHALLENGE".into());
        }
        let request = &event.request;
        // A real user's address, the mailbox it counts against, and whether the user proved it.
        let (recipient, owner) = if request.user_not_found {
            (None, None)
        } else {
            let attributes = &request.user_attributes;
            let email = attributes.get("email").map(|e| e.trim());
            let mailbox = email.and_then(|e| StateKey::mailbox(&pool, e));
            let address = email.and_then(|e| StateKey::address_tag(&pool, e));
            let owner = attributes.get("sub").filter(|s| !s.is_empty());
            let verified = attributes.get("email_verified").is_some_and(|v| v == "true");
            (
                Some(Destination {
                    email: email.filter(|_| mailbox.is_some()).ok_or("this user has no usable email address")?,
                    mailbox: mailbox.ok_or("this user has no usable email address")?,
                    address: address.ok_or("this user has no usable email address")?,
                    verified,
                }),
                Some(owner.ok_or("malformed CreateAuthChallenge event: no sub")?.clone()),
            )
        };
        let wants_resend = resend::requested(&request.client_metadata);
        let resends = resend::count(&request.session, &request.client_metadata);

        // Drawn before the state is read, so a failing RNG fails the round before anything changes.
        let fresh = OneTimeCode::generate(self.config.code_length)?;
        let (limits, ttl) = (self.config.limits, self.config.code_ttl_seconds);
        // An unknown name keeps the hint it was first given, so it looks the same every time.
        let decoy_hint = (self.config.email_hint == EmailHint::Masked && owner.is_none()).then(decoy::random_hint);
        let delivery = DeliveryId::random();
        // Only a session's first round may take a passkey proof (the API starts one for it).
        let first_round = request.session.is_empty();
        let (round, kept_hint) = update(&self.store, &key, |state: UserState| {
            if let Some(digest) =
                first_round.then(|| passkey::live(&state, owner.as_deref(), now.timestamp())).flatten()
            {
                return ((Round::Passkey(digest), None), state);
            }
            let (mut outcome, mut next) =
                auth_state::start(state, owner.as_deref(), now.timestamp(), ttl, &limits, wants_resend, || {
                    fresh.clone()
                });
            // A new code's email gets a new delivery id (a reused code keeps its email's).
            if let Start::Send(code) = &mut outcome {
                if let Some(kept) = next.code.as_mut().filter(|c| **c == *code) {
                    kept.delivery = delivery.as_str().to_string();
                }
                code.delivery = delivery.as_str().to_string();
            }
            if next.owner.is_none() && next.decoy_hint.is_none() {
                next.decoy_hint = decoy_hint.clone();
            }
            ((Round::Email(outcome), next.decoy_hint.clone()), next)
        })
        .await?;
        let outcome = match round {
            Round::Email(outcome) => outcome,
            Round::Passkey(digest) => {
                tracing::info!("passkey sign-in: no email");
                lambda_support::metrics::emit(&[], &[("PasskeySignIns", lambda_support::metrics::Unit::Count, 1.0)]);
                let response = &mut event.response;
                response.public_challenge_parameters =
                    [(passkey::METHOD_PARAMETER.to_string(), passkey::METHOD.to_string())].into();
                response.private_challenge_parameters = [(passkey::PRIVATE_PARAMETER.to_string(), digest)].into();
                response.challenge_metadata = Some(passkey::METADATA.to_string());
                return Ok(event);
            }
        };

        let (code, refused, sent_now) = match outcome {
            Start::Refused { retry_after, hold } => {
                tracing::warn!(retry_after, ?hold, "sign-in refused: no email may go out yet");
                let metric = match hold {
                    Hold::HourlyBudget => "SignInsRefused",
                    Hold::GuessBackoff => "GuessBackoffRefusals",
                };
                lambda_support::metrics::emit(&[], &[(metric, lambda_support::metrics::Unit::Count, 1.0)]);
                return Err(format!("{REFUSAL}{retry_after}").into());
            }
            Start::Reuse { code, refused } => {
                tracing::info!(resend_refused = ?refused, "active code reused: no new email");
                (code, refused, false)
            }
            Start::Send(code) => {
                self.deliver(&pool, &key, &username, recipient.as_ref(), request, &code, now).await?;
                (code, None, true)
            }
        };

        let hint = match (self.config.email_hint, recipient.as_ref().map(|r| r.email)) {
            (EmailHint::None, _) => None,
            (EmailHint::Masked, Some(email)) => Some(mask_email(email)),
            (EmailHint::Masked, None) => Some(kept_hint.unwrap_or_else(decoy::random_hint)),
        };
        // Which answer this challenge asks for (1 = the first) in this session, resend requests
        // not counted, and how many wrong answers the code itself can still take.
        let rounds =
            request.session.iter().flatten().filter(|e| e.challenge_name.as_deref() == Some(CUSTOM_CHALLENGE)).count();
        let attempt = rounds.saturating_sub(resends) + 1;
        let mut public: Vec<(&str, String)> = hint.map(|h| ("email", h)).into_iter().collect();
        public.extend([
            ("codeLength", code.digits.len().to_string()),
            ("attempt", attempt.to_string()),
            ("codeAttemptsLeft", code.wrong_answers_left(&limits).to_string()),
            ("sentAt", rfc3339(code.sent_at)),
            ("expiresAt", rfc3339(code.expires_at)),
            ("resendAt", rfc3339(code.sent_at + limits.resend_after_seconds)),
            ("newEmail", sent_now.to_string()),
        ]);
        if wants_resend {
            let (answer, retry_after) = match refused {
                None => ("sent", None),
                Some(ResendRefused::TooSoon { retry_after }) => ("too_soon", Some(retry_after)),
                Some(ResendRefused::OverBudget { retry_after }) => ("over_budget", Some(retry_after)),
            };
            public.push(("resend", answer.to_string()));
            public.extend(retry_after.map(|r| ("retryAfter", r.to_string())));
        }
        let response = &mut event.response;
        response.public_challenge_parameters = public.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        // The answer is checked against the shared state, not against anything in the session.
        response.private_challenge_parameters = Default::default();
        response.challenge_metadata = Some(resend::metadata(resends));
        Ok(event)
    }

    /// Sends the new code's email (or, for an unknown user, waits as long as a send takes): counts
    /// it against the mailbox's hourly budget, then enqueues it. A refused or failed send takes the
    /// code back out of the state (and the email out of the mailbox's count), so the next sign-in
    /// makes a new code instead of reusing one nobody received.
    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        pool: &str,
        key: &StateKey,
        username: &str,
        to: Option<&Destination<'_>>,
        request: &aws_lambda_events::event::cognito::CognitoEventUserPoolsCreateAuthChallengeRequest,
        code: &ActiveCode,
        now: DateTime<Utc>,
    ) -> Result<(), TriggerError> {
        let started = Instant::now();
        let Some(&Destination { email, ref mailbox, ref address, verified }) = to else {
            // The real path's slow steps are the mailbox count and the queue send; wait as long.
            tokio::time::sleep(self.latency.sample()).await;
            return Ok(());
        };
        let limits = self.config.limits;
        let t = now.timestamp();
        let withdraw = || async {
            if let Err(e) = update(&self.store, key, |state| auth_state::withdraw(state, code)).await {
                tracing::error!(error = %e, "the unsent code could not be withdrawn; it expires on its own");
            }
        };
        // An address its user proved is theirs: the budget counts their emails but never refuses
        // them, so nobody can lock an owner out by spending it with accounts of their own.
        let enforce = !verified;
        match auth_state::mailbox::reserve(&self.store, mailbox, address, t, &limits, enforce).await {
            Ok(Reserve::Granted) => {}
            Ok(Reserve::Refused { retry_after }) => {
                withdraw().await;
                return Err(format!("{REFUSAL}{retry_after}").into());
            }
            Ok(Reserve::Undeliverable) => {
                // The sign-in goes on exactly as if the email had gone out: the code stays, counted
                // against the user as any email is (taking it back would make every later sign-in
                // answer "new email", an existence oracle); nothing is enqueued, and the status the
                // person waiting reads says why no email comes. After an operator's repair, the
                // next email goes out once this code is over (expired, or a resend).
                self.mark_undeliverable(pool, &code.delivery, t).await;
                return Ok(());
            }
            Err(e) => {
                withdraw().await;
                return Err(e.into());
            }
        }
        let job = self.login_job(
            username,
            email,
            request.user_attributes.get("name"),
            request.user_attributes.get("locale"),
            code,
            now,
        );
        if let Err(e) = self.queue.enqueue(&job).await {
            tracing::error!(job_id = %job.id, error = %e, "mail job not enqueued");
            withdraw().await;
            auth_state::mailbox::release(&self.store, mailbox, t).await;
            return Err(e.into());
        }
        self.latency.record(started.elapsed());
        tracing::info!(job_id = %job.id, template = job.content.template_name(), locale = %job.locale, "mail job enqueued");
        Ok(())
    }

    /// The email of this delivery will never be sent: its status says so at once.
    async fn mark_undeliverable(&self, pool: &str, delivery: &str, t: i64) {
        let key = StateKey::delivery(pool, delivery);
        let marked =
            update(&self.store, &key, |s| delivery::advance(s, DeliveryStatus::Bounced, t, Some("suppressed"))).await;
        if let Err(e) = marked {
            tracing::error!(error = %e, "the suppressed email's status was not recorded");
        }
    }

    fn login_job(
        &self,
        username: &str,
        email: &str,
        name: Option<&String>,
        locale: Option<&String>,
        code: &ActiveCode,
        now: DateTime<Utc>,
    ) -> MailJob {
        MailJob {
            version: mail_job::VERSION,
            id: JobId::random(),
            content: MailContent::LoginLink(LoginLinkData {
                username: username.to_string(),
                code: code.digits.clone(),
                link: self.config.login_url.link_for(username, &code.digits),
            }),
            locale: mail_job::Locale::from_attribute(locale.map(String::as_str)),
            to: Recipient {
                email: email.to_string(),
                name: Some(name.filter(|n| !n.trim().is_empty()).map_or(username, |n| n.as_str()).to_string()),
            },
            created_at: now,
            // The expiry the email states is the one the state enforces.
            expires_at: Utc.timestamp_opt(code.expires_at, 0).single(),
            delivery: DeliveryId::try_from(code.delivery.clone()).ok(),
        }
    }
}

#[cfg(test)]
mod tests;
