"""What the local scripts share: boto3 clients for moto, the SDK variables that point a Lambda
binary at it, the auth-state table, SQS records shaped like the event source mapping's, and one
run of a binary through the Lambda Runtime API harness (tools/lambda_rie.py)."""
import json, pathlib, subprocess, sys, tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def client(service, moto_url):
    import boto3
    return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def auth_state_table(moto_url, name="auth-state"):
    """The table the create and verify triggers share (AUTH_STATE_TABLE), as the CDK app makes it:
    partition key `pk` (string), on demand. Returns its name."""
    client("dynamodb", moto_url).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return name


def sdk_env(moto_url):
    """`--env` pairs for the harness: the real SDK, pointed at moto."""
    return [f"AWS_ENDPOINT_URL={moto_url}", "AWS_REGION=us-east-1",
            "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"]


def sqs_record(message_id, body, receipt_handle="rh"):
    return {"messageId": message_id, "receiptHandle": receipt_handle, "body": body,
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
            "eventSource": "aws:sqs", "awsRegion": "us-east-1"}


def run_lambda(binary, events, env):
    """Starts `binary` once under the Runtime API harness, feeds it `events`; the harness's report."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(events, f)
    cmd = [sys.executable, str(ROOT / "tools/lambda_rie.py"), "--events", f.name]
    for kv in env:
        cmd += ["--env", kv]
    try:
        return json.loads(subprocess.run(cmd + ["--", str(binary)], check=True, capture_output=True).stdout)
    finally:
        pathlib.Path(f.name).unlink(missing_ok=True)
