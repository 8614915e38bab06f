"""Runs a whole passwordless sign-up and sign-in on this machine through the release binaries.

auth-api (HTTP, as an app calls it) -> local-cognito (the Cognito JSON 1.1 endpoint) -> the
trigger binaries over the Lambda Runtime API (their per-user state in DynamoDB on moto)
-> the mail job on SQS (moto) -> the mailer binary -> SES v2 (moto). Then a wrong code, the code
from the email, the signed-in user's claims, a refresh and a sign-out. Prints each step; the email's HTML goes to out/last-email.html.

Usage: demo_sign_in.py --moto-url URL [--bin-dir target/release] [--username NAME --email ADDR]
"""
import argparse, json, re, socket, subprocess, sys, time, urllib.error, urllib.request

from localaws import ROOT, auth_state_table, client, run_lambda, sdk_env, sqs_record


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, args, env, port):
    proc = subprocess.Popen([str(binary), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{binary.name} did not start on port {port}")


def call(base, method, path, body=None, cookies=None):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"content-type": "application/json", "origin": base})
    if cookies:
        request.add_header("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        response = urllib.request.urlopen(request)
    except urllib.error.HTTPError as e:
        response = e
    raw = response.read()
    set_cookies = {c.split(";")[0].split("=", 1)[0]: c.split(";")[0].split("=", 1)[1]
                   for c in response.headers.get_all("set-cookie") or []}
    return response.status, (json.loads(raw) if raw else None), set_cookies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=str(ROOT / "target/release"))
    ap.add_argument("--moto-url", required=True)
    ap.add_argument("--username", default="alice")
    ap.add_argument("--email", default="alice@example.com")
    a = ap.parse_args()
    bins = ROOT / a.bin_dir if not a.bin_dir.startswith("/") else __import__("pathlib").Path(a.bin_dir)

    sqs = client("sqs", a.moto_url)
    queue_url = sqs.create_queue(QueueName="mail-jobs")["QueueUrl"]
    client("sesv2", a.moto_url).create_email_identity(EmailIdentity="acme.example")
    table = auth_state_table(a.moto_url)
    aws = dict(kv.split("=", 1) for kv in sdk_env(a.moto_url))
    import os
    cognito_port, api_port = free_port(), free_port()
    cognito_env = {**os.environ, **aws, "MAIL_QUEUE_URL": queue_url,
                   "LOGIN_URL": f"http://127.0.0.1:{api_port}/verify-login", "AUTH_STATE_TABLE": table,
                   "AWS_LAMBDA_LOG_LEVEL": "WARN"}
    cognito = start(bins / "local-cognito", ["--listen", f"127.0.0.1:{cognito_port}", "--triggers", "binaries",
                                             "--bin-dir", str(bins)], cognito_env, cognito_port)
    # Cognito is local-cognito; the auth API's sign-outs share the auth-state table on moto.
    api_env = {**os.environ, **aws, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": f"http://127.0.0.1:{cognito_port}",
               "AWS_REGION": "us-east-1", "AUTH_STATE_TABLE": table,
               "COGNITO_CLIENT_ID": "local0client0id00000000000", "COGNITO_USER_POOL_ID": "us-east-1_localpool",
               "AWS_LAMBDA_LOG_LEVEL": "WARN"}
    api = start(bins / "auth-api", ["--listen", f"127.0.0.1:{api_port}"], api_env, api_port)
    base = f"http://127.0.0.1:{api_port}"
    try:
        print(f"local-cognito on 127.0.0.1:{cognito_port} (trigger binaries over the Runtime API), auth-api on {base}")
        status, body, _ = call(base, "POST", "/signup", {"username": a.username, "email": a.email})
        print(f"1. POST /signup -> {status} {body}")
        assert status == 201, body
        status, login, _ = call(base, "POST", "/login", {"username": a.username})
        print(f"2. POST /login -> {status}: code sent to {login['destination'] or 'the address on the account'}, {login['code_length']} digits, "
              f"{login['attempts_left']} tries, until {login['expires_at']}")
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        login_jobs = [m for m in messages if json.loads(m["Body"])["template"] == "login_link"]
        assert len(login_jobs) == 1, messages
        records = [sqs_record(m["MessageId"], m["Body"], m["ReceiptHandle"]) for m in login_jobs]
        out = run_lambda(bins / "mailer", [{"Records": records}], sdk_env(a.moto_url) +
                         ["MAIL_FROM=Acme <no-reply@acme.example>"])
        assert out["results"][0]["body"] == {"batchItemFailures": []}, out
        email = json.load(urllib.request.urlopen(f"{a.moto_url}/moto-api/data.json"))["ses"]["Message"][-1]
        (ROOT / "out").mkdir(exist_ok=True)
        (ROOT / "out/last-email.html").write_text(email["body"])
        code = re.search(r"code=(\d+)", email["body"]).group(1)
        print(f"3. the mailer (cold start {out['first_ms']:.1f} ms) sent '{email['subject']}' to "
              f"{email['destinations']['ToAddresses'][0]} (HTML in out/last-email.html)")
        status, wrong, _ = call(base, "POST", "/verify-login",
                                {"username": a.username, "session": login["session"], "code": "000000"})
        print(f"4. POST /verify-login with a wrong code -> {status} {wrong['error']}, "
              f"{wrong['attempts_left']} tries left")
        status, done, cookies = call(base, "POST", "/verify-login",
                                     {"username": a.username, "session": wrong["session"], "code": code})
        print(f"5. POST /verify-login with the code from the email -> {status} {done}; cookies: {sorted(cookies)}")
        assert status == 200, done
        status, me, _ = call(base, "GET", "/me", cookies=cookies)
        claims = me["claims"]
        print(f"6. GET /me -> {status}: cognito:username={claims['cognito:username']} token_use={claims['token_use']} "
              f"(verified against {claims['iss']}/.well-known/jwks.json)")
        status, _, fresh = call(base, "POST", "/refresh", {}, cookies)
        print(f"7. POST /refresh -> {status}, new {sorted(fresh)}")
        status, _, _ = call(base, "POST", "/logout", {}, cookies)
        print(f"8. POST /logout -> {status}; signed out.")
        status, _, _ = call(base, "GET", "/me", cookies=cookies)
        print(f"9. GET /me with the old cookies -> {status}: the sign-out holds for the ID token too.")
        assert status == 401, status
    finally:
        for p in (api, cognito):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
