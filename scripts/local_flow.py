"""Runs a whole passwordless sign-in on this machine through the real Lambda binaries.

Plays Cognito's part of CUSTOM_AUTH (define -> create -> verify -> define, with a wrong answer
first), invoking each trigger binary through the Lambda Runtime API (tools/lambda_rie.py), with
create-auth-challenge sending its mail job to SQS on moto (loopback) and the mailer binary
sending the email through moto's SES v2. Prints each step.

Usage: local_flow.py --bin-dir target/release --moto-url URL [--username NAME --email ADDR]
"""
import argparse, copy, json, pathlib, sys, urllib.request

from localaws import ROOT, client, run_lambda, sdk_env, sqs_record

FIX = ROOT / "triggers/fixtures/cognito"


def fixture(name):
    return json.loads((FIX / name).read_text())


class Flow:
    def __init__(self, bin_dir, env):
        self.bin_dir, self.env = pathlib.Path(bin_dir), env

    def invoke(self, function, event, raw=False):
        out = run_lambda(self.bin_dir / function, [event], self.env)
        if out["init_error"] or not out["results"] or not out["results"][0]["ok"]:
            sys.exit(f"{function} failed: {json.dumps(out, indent=1)}")
        print(f"  {function}: cold start {out['first_ms']:.1f} ms, peak RSS {out['peak_rss_kb'] / 1024:.1f} MB")
        body = out["results"][0]["body"]
        return body if raw else body["response"]


def deliver(a, messages, flow):
    """Hands received messages to the mailer binary as the SQS event source mapping would, then
    reads the email back from moto's SES store and writes it to out/ for a browser."""
    records = [sqs_record(m["MessageId"], m["Body"], m["ReceiptHandle"]) for m in messages]
    response = flow.invoke("mailer", {"Records": records}, raw=True)
    assert response == {"batchItemFailures": []}, response
    sent = json.load(urllib.request.urlopen(f"{a.moto_url}/moto-api/data.json"))["ses"]["Message"]
    email = sent[-1]
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "last-email.html").write_text(email["body"])
    print(f"   sent by SES: From {email['source']} To {email['destinations']['ToAddresses'][0]}")
    print(f"   Subject: {email['subject']}   (HTML written to out/last-email.html)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=str(ROOT / "target/release"))
    ap.add_argument("--moto-url", required=True)
    ap.add_argument("--username", default="alice")
    ap.add_argument("--email", default="alice@example.com")
    a = ap.parse_args()

    sqs = client("sqs", a.moto_url)
    queue_url = sqs.create_queue(QueueName="mail-jobs")["QueueUrl"]
    client("sesv2", a.moto_url).create_email_identity(EmailIdentity="acme.example")
    flow = Flow(a.bin_dir, sdk_env(a.moto_url) + [
        f"MAIL_QUEUE_URL={queue_url}", "LOGIN_URL=http://localhost:3000/verify-login",
        "MAX_ATTEMPTS=3", "MAIL_FROM=Acme <no-reply@acme.example>"])

    def with_user(event):
        event = copy.deepcopy(event)
        event["userName"] = a.username
        event["request"]["userAttributes"]["email"] = a.email
        return event

    session = []

    def define():
        event = with_user(fixture("define_empty_session.json"))
        event["request"]["session"] = session
        return flow.invoke("define-auth-challenge", event)

    def create():
        event = with_user(fixture("create_first_challenge.json"))
        event["request"]["session"] = session
        return flow.invoke("create-auth-challenge", event)

    def verify(private, answer):
        event = with_user(fixture("verify_answer.json"))
        event["request"]["privateChallengeParameters"] = private
        event["request"]["challengeAnswer"] = answer
        return flow.invoke("verify-auth-challenge", event)

    print(f"1. InitiateAuth(CUSTOM_AUTH, {a.username})")
    assert define()["challengeName"] == "CUSTOM_CHALLENGE"
    created = create()
    print(f"   challenge shown to the client: {created['publicChallengeParameters']}")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1, messages
    job = json.loads(messages[0]["Body"])
    print(f"   mail job {job['id']} on SQS: template={job['template']} locale={job['locale']} "
          f"expires_at={job['expires_at']}")
    code = job["data"]["code"]
    print("   the mailer takes the SQS batch and sends the email with SES v2")
    deliver(a, messages, flow)

    print("2. RespondToAuthChallenge with a wrong code")
    wrong = verify(created["privateChallengeParameters"], "000000x")
    assert wrong["answerCorrect"] is False
    session.append({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False,
                    "challengeMetadata": created["challengeMetadata"]})
    assert define()["challengeName"] == "CUSTOM_CHALLENGE"
    again = create()
    assert again["privateChallengeParameters"] == created["privateChallengeParameters"], "same code on retry"
    assert not sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages"), "no second email"
    print("   another try, same code, no second email")

    typed = f"{code[:3]} {code[3:]}"
    print(f"3. RespondToAuthChallenge with the code from the email, typed as {typed!r}")
    assert verify(again["privateChallengeParameters"], typed)["answerCorrect"] is True
    session.append({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True,
                    "challengeMetadata": again["challengeMetadata"]})
    final = define()
    assert final["issueTokens"] is True
    print("   issueTokens = true: signed in.")


if __name__ == "__main__":
    main()
