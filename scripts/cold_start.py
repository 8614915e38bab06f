"""Cold start of each Lambda binary through the Lambda Runtime API (tools/lambda_rie.py).

For every function: RUNS fresh processes, each handed one realistic event. Reports the median and
worst of process start -> runtime ready (init), process start -> first response (cold), and the
function's own peak RSS (VmHWM). create-auth-challenge builds its SDK client and sends one real
SQS message to moto on loopback; the mailer builds its SES client, renders one email and sends it
to moto's SES v2; so their figures include SDK init and one request. The auth API answers one
Function URL request (GET /me without a cookie: 401, no Cognito call) after building its SDK client.

Usage: cold_start.py --bin-dir target/release --moto-url URL [--runs N]
"""
import argparse, json, pathlib, statistics, sys

from localaws import ROOT, client, run_lambda, sdk_env, sqs_record

FIX = ROOT / "triggers/fixtures/cognito"


def mailer_event():
    """One SQS record holding the shared login_link fixture job, with an expiry far ahead."""
    job = json.loads((ROOT / "mail-job/fixtures/login_link.json").read_text())
    job["expires_at"] = "2999-01-01T00:00:00Z"
    return {"Records": [sqs_record("m1", json.dumps(job))]}


def functions(moto_url):
    """(binary, event, env) for each function."""
    aws = sdk_env(moto_url)
    queue_url = client("sqs", moto_url).create_queue(QueueName="cold-start-bench")["QueueUrl"]
    client("sesv2", moto_url).create_email_identity(EmailIdentity="acme.example")
    fixture = lambda name: json.loads((FIX / name).read_text())
    return [
        ("define-auth-challenge", fixture("define_empty_session.json"), ["MAX_ATTEMPTS=3"]),
        ("create-auth-challenge", fixture("create_first_challenge.json"),
         aws + [f"MAIL_QUEUE_URL={queue_url}", "LOGIN_URL=https://app.example.com/verify-login"]),
        ("verify-auth-challenge", fixture("verify_answer.json"), []),
        ("pre-sign-up", fixture("pre_sign_up.json"), []),
        ("post-confirmation", fixture("post_confirmation.json"),
         aws + [f"MAIL_QUEUE_URL={queue_url}", "SIGN_IN_URL=https://app.example.com/login"]),
        ("mailer", mailer_event(), aws + ["MAIL_FROM=Acme <no-reply@acme.example>"]),
        ("auth-api", function_url_event("GET", "/me"),
         aws + ["COGNITO_CLIENT_ID=local0client0id00000000000", "COGNITO_USER_POOL_ID=us-east-1_localpool"]),
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
    for name, event, env in functions(a.moto_url):
        binary = pathlib.Path(a.bin_dir) / name
        if not binary.exists():
            continue
        inits, firsts, rss = [], [], []
        for _ in range(a.runs):
            out = run_lambda(binary, [event], env)
            if not out["results"] or not out["results"][0]["ok"]:
                sys.exit(f"{name}: no successful response: {out}")
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
