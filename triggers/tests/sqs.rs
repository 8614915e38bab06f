//! The create-challenge path with its real SQS adapter against moto.

mod common;

use common::{received_jobs, trigger_on};
use mail_job::MailContent;
use testkit::Moto;
use triggers::fixtures;

#[tokio::test]
async fn an_awkward_username_round_trips_through_sqs_and_the_link() {
    let moto = Moto::start();
    let (trigger, _, sqs, queue_url) = trigger_on(&moto).await;
    trigger.handle(fixtures::event("create_unicode_username.json"), chrono::Utc::now()).await.unwrap();
    let jobs = received_jobs(&sqs, &queue_url).await;
    assert_eq!(jobs.len(), 1);
    let MailContent::LoginLink(data) = &jobs[0].content else { panic!("a login_link job") };
    let link = url::Url::parse(&data.link).unwrap();
    let query: Vec<(String, String)> = link.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    assert_eq!(query, [("lang".to_string(), "de".to_string())], "LOGIN_URL's query stays; the secret is not in it");
    let fragment: Vec<(String, String)> =
        url::form_urlencoded::parse(link.fragment().unwrap().as_bytes()).map(|(k, v)| (k.into(), v.into())).collect();
    assert_eq!(
        fragment,
        [
            ("v".to_string(), "2".to_string()),
            ("username".to_string(), "Zoë+test&x=1".to_string()),
            ("code".to_string(), data.code.clone())
        ]
    );
    assert_eq!(jobs[0].to.email, "zoe+test@example.com");
}
