"""Cold start of each Lambda binary through the Lambda Runtime API (tools/lambda_rie.py).

For every function: RUNS fresh processes, each handed one realistic event. Reports the median and
worst of process start -> runtime ready (init), process start -> first response (cold), and the
function's own peak RSS (VmHWM). create-auth-challenge builds its SDK client and sends one real
SQS message to moto on loopback; the mailer builds its SES client, renders one email and sends it
to moto's SES v2; so their figures include SDK init and one request. The auth API answers one
Function URL request (GET /me without a cookie: 401, no Cognito call) after building its SDK client.
create-auth-challenge and verify-auth-challenge read and conditionally write the user's item in a
DynamoDB table on moto (AUTH_STATE_TABLE): before each create run the user's and the mailbox's
items are deleted, so every run takes the full path (GetItem + PutItem on the user, GetItem +
PutItem on the mailbox, SQS send); before each verify run an item holding the fixture's code is
put, so every run reads it and marks it used (GetItem, PutItem). post-authentication runs against
a user on moto's Cognito whose address is reset to unverified before each run, so every run takes
the full path (AdminUpdateUserAttributes, the mailbox's GetItem + PutItem, SQS send). The auth API
reads nothing from the table for a request without a token. mail-feedback applies one SQS record
holding SES's permanent-bounce event (as EventBridge forwards it): the email's status and the
mailbox's suppression, each a GetItem + PutItem on moto's table, reset before each run.

Usage: cold_start.py --bin-dir target/release --moto-url URL [--runs N]
"""
import argparse, hashlib, json, pathlib, statistics, sys, time

from localaws import ROOT, auth_state_table, client, run_lambda, sdk_env, sqs_record

FIX = ROOT / "triggers/fixtures/cognito"


def mailer_event():
    """One SQS record holding the shared login_link fixture job, with an expiry far ahead."""
    job = json.loads((ROOT / "mail-job/fixtures/login_link.json").read_text())
    job["expires_at"] = "2999-01-01T00:00:00Z"
    return {"Records": [sqs_record("m1", json.dumps(job))]}


def state_key(kind, pool_id, ident):
    """triggers/src/auth_state/store.rs StateKey: SHA-256 over length-prefixed parts, hex."""
    h = hashlib.sha256()
    for part in (kind, pool_id, ident):
        data = part.encode()
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def user_key(pool_id, username):
    return state_key("passwordless-auth-state/v1", pool_id, username.lower())


def mailbox_key(pool_id, address):
    """triggers/src/identity.rs mailbox(): lower-cased, no +tag (and no dots at Gmail)."""
    local, domain = address.strip().lower().rsplit("@", 1)
    local = local.split("+")[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return state_key("passwordless-mailbox/v1", pool_id, f"{local}@{domain}")


def functions(moto_url):
    """(binary, event, env, before_each_run) for each function."""
    aws = sdk_env(moto_url)
    queue_url = client("sqs", moto_url).create_queue(QueueName="cold-start-bench")["QueueUrl"]
    client("sesv2", moto_url).create_email_identity(EmailIdentity="acme.example")
    table = auth_state_table(moto_url)
    dynamodb = client("dynamodb", moto_url)
    fixture = lambda name: json.loads((FIX / name).read_text())
    create_event, verify_event = fixture("create_first_challenge.json"), fixture("verify_answer.json")
    key = lambda event: {"pk": {"S": user_key(event["userPoolId"], event["userName"])}}
    mailbox = lambda event: {"pk": {"S": mailbox_key(event["userPoolId"], event["request"]["userAttributes"]["email"])}}

    def fresh_user():
        dynamodb.delete_item(TableName=table, Key=key(create_event))
        dynamodb.delete_item(TableName=table, Key=mailbox(create_event))

    # post-authentication marks the address verified on Cognito (moto's here), then welcomes.
    cognito = client("cognito-idp", moto_url)
    pool_id = cognito.create_user_pool(PoolName="cold-start-bench")["UserPool"]["Id"]
    post_event = fixture("post_authentication.json")
    post_event["userPoolId"] = pool_id
    email = post_event["request"]["userAttributes"]["email"]
    cognito.admin_create_user(UserPoolId=pool_id, Username=post_event["userName"],
                              UserAttributes=[{"Name": "email", "Value": email}], MessageAction="SUPPRESS")

    def unverified():
        cognito.admin_update_user_attributes(UserPoolId=pool_id, Username=post_event["userName"],
                                             UserAttributes=[{"Name": "email_verified", "Value": "false"}])
        dynamodb.delete_item(TableName=table, Key=mailbox(post_event))

    def verified_and_welcomed(out):
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=post_event["userName"])
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        return out["results"][0]["ok"] and attributes.get("email_verified") == "true" \
            and "Item" in dynamodb.get_item(TableName=table, Key=mailbox(post_event), ConsistentRead=True)

    def code_waiting():
        now = int(time.time())
        digits = "".join(c for c in verify_event["request"]["challengeAnswer"] if c.isdigit())
        state = {"owner": verify_event["request"]["userAttributes"]["sub"],
                 "code": {"digits": digits, "sent_at": now, "expires_at": now + 180, "wrong": 0, "used": False},
                 "emails": [now]}
        dynamodb.put_item(TableName=table, Item={**key(verify_event), "v": {"N": "1"},
                                                 "state": {"S": json.dumps(state)}, "expires_at": {"N": str(now + 90000)}})

    def emailed(out):
        return out["results"][0]["body"]["response"]["publicChallengeParameters"]["newEmail"] == "true"

    def accepted_and_used(out):
        item = dynamodb.get_item(TableName=table, Key=key(verify_event), ConsistentRead=True)["Item"]
        used = json.loads(item["state"]["S"])["code"]["used"]
        return used and out["results"][0]["body"]["response"]["answerCorrect"] is True

    feedback_body = (ROOT / "mail-feedback/fixtures/eventbridge_bounce.json").read_text()
    feedback_pool = "us-east-1_coldstart"
    detail = json.loads(feedback_body)["detail"]
    bounced_mailbox = {"pk": {"S": mailbox_key(feedback_pool, detail["bounce"]["bouncedRecipients"][0]["emailAddress"])}}
    delivery = {"pk": {"S": state_key("passwordless-delivery/v1", feedback_pool, detail["mail"]["tags"]["delivery"][0])}}

    def not_bounced_yet():
        dynamodb.delete_item(TableName=table, Key=bounced_mailbox)
        dynamodb.delete_item(TableName=table, Key=delivery)

    def suppressed(out):
        item = dynamodb.get_item(TableName=table, Key=bounced_mailbox, ConsistentRead=True).get("Item")
        return out["results"][0]["body"]["batchItemFailures"] == [] and item is not None \
            and bool(json.loads(item["state"]["S"]).get("suppressed"))

    return [
        ("define-auth-challenge", fixture("define_empty_session.json"), ["MAX_ATTEMPTS=3"], None, None),
        ("create-auth-challenge", create_event,
         aws + [f"MAIL_QUEUE_URL={queue_url}", "LOGIN_URL=https://app.example.com/verify-login",
                f"AUTH_STATE_TABLE={table}"], fresh_user, emailed),
        ("verify-auth-challenge", verify_event, aws + [f"AUTH_STATE_TABLE={table}"], code_waiting, accepted_and_used),
        ("pre-sign-up", fixture("pre_sign_up.json"), [], None, None),
        ("post-authentication", post_event,
         aws + [f"MAIL_QUEUE_URL={queue_url}", "SIGN_IN_URL=https://app.example.com/login",
                f"AUTH_STATE_TABLE={table}"], unverified, verified_and_welcomed),
        ("mailer", mailer_event(), aws + ["MAIL_FROM=Acme <no-reply@acme.example>"], None, None),
        ("mail-feedback", {"Records": [sqs_record("f1", feedback_body)]},
         aws + [f"AUTH_STATE_TABLE={table}", f"COGNITO_USER_POOL_ID={feedback_pool}"], not_bounced_yet, suppressed),
        ("auth-api", function_url_event("GET", "/me"),
         aws + ["COGNITO_CLIENT_ID=local0client0id00000000000", "COGNITO_USER_POOL_ID=us-east-1_localpool",
                f"AUTH_STATE_TABLE={table}"],
         None, None),
    ]


def function_url_event(method, path):
    """A Lambda Function URL request (API Gateway HTTP API payload 2.0); GET /me without a cookie
    is answered 401 by the auth API without calling Cognito: SDK and router init, one request."""
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc", "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "28/Nov/2026:18:00:00 +0000", "timeEpoch": 1795888800000,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "bench"},
        },
        "isBase64Encoded": False,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=str(ROOT / "target/release"))
    ap.add_argument("--moto-url", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", help="also write the raw figures here")
    a = ap.parse_args()
    rows, raw = [], {}
    for name, event, env, before, check in functions(a.moto_url):
        binary = pathlib.Path(a.bin_dir) / name
        if not binary.exists():
            continue
        inits, firsts, rss = [], [], []
        for _ in range(a.runs):
            if before:
                before()
            out = run_lambda(binary, [event], env)
            if not out["results"] or not out["results"][0]["ok"]:
                sys.exit(f"{name}: no successful response: {out}")
            if check and not check(out):
                sys.exit(f"{name}: the run did not take the path it is meant to measure: {out}")
            inits.append(out["init_ms"]); firsts.append(out["first_ms"]); rss.append(out["peak_rss_kb"])
        raw[name] = {"init_ms": inits, "first_ms": firsts, "peak_rss_kb": rss}
        rows.append((name, statistics.median(inits), statistics.median(firsts), max(firsts),
                     statistics.median(rss) / 1024, max(rss) / 1024, binary.stat().st_size / 1e6))
    print(f"| function | init (median) | first response (median) | first response (worst of {a.runs}) "
          "| peak RSS (median) | peak RSS (max) | binary |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.1f} ms | {r[2]:.1f} ms | {r[3]:.1f} ms | {r[4]:.1f} MB | {r[5]:.1f} MB | {r[6]:.1f} MB |")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
