"""local-cognito as boto3 sees it, against the real local-stack binary (the same endpoint).

1. The compatibility table in local-cognito/README.md against botocore's model of the service and
   against what the running endpoint answers for every operation.
2. A user's life through boto3: sign-up, custom-auth sign-in (a wrong, then the emailed code),
   refresh with rotation (the rotated-out token refused after the grace period), an email change
   verified with the code Cognito emails (read from the local inbox), devices, admin disable and
   enable, global sign-out, delete. Errors are checked by code and message.

Run by scripts/test.sh: LOCAL_STACK_BIN=target/debug/local-stack .venv/bin/python <this file>.
"""

import json
import os
import re
import subprocess
import time
import unittest
import urllib.request
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

README = Path(__file__).resolve().parent.parent / "README.md"
STATUSES = {"implemented", "different", "not implemented"}
GRACE_SECONDS = 1


def table():
    text = README.read_text()
    body = text.split("<!-- compatibility:start -->")[1].split("<!-- compatibility:end -->")[0]
    rows = {}
    for line in body.splitlines():
        match = re.match(r"\| `(\w+)` \| ([a-z ]+) \|", line)
        if match:
            assert match[1] not in rows, f"{match[1]} twice in the table"
            rows[match[1]] = match[2]
    return rows


class Stack:
    def __init__(self):
        binary = os.environ["LOCAL_STACK_BIN"]
        args = [binary, "--listen", "127.0.0.1:0", "--refresh-grace-seconds", str(GRACE_SECONDS)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        seen = ""
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"local-stack exited: {seen}")
            seen += line
            match = re.search(r"Cognito endpoint (http://127\.0\.0\.1:\d+)", line)
            if match:
                self.origin = match[1]
                break
        config = json.load(urllib.request.urlopen(f"{self.origin}/dev/config"))
        self.pool_id = config["user_pool_id"]
        self.client_id = config["client_id"]
        self.idp = boto3.client(
            "cognito-idp",
            endpoint_url=self.origin,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()

    def raw(self, operation, body):
        request = urllib.request.Request(
            self.origin + "/",
            data=json.dumps(body).encode(),
            headers={
                "content-type": "application/x-amz-json-1.1",
                "x-amz-target": f"AWSCognitoIdentityProviderService.{operation}",
            },
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def inbox(self):
        return json.load(urllib.request.urlopen(f"{self.origin}/inbox/messages.json"))

    def next_email(self, template, seen):
        """The newest email of this template whose id is not in `seen`, waiting for the mailer."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for message in self.inbox():
                if message["template"] == template and message["id"] not in seen:
                    seen.add(message["id"])
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no {template} email arrived")


def error(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError(f"{call.__name__} should have failed")


class Compatibility(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_the_table_lists_exactly_the_operations_of_the_sdk_model(self):
        model = set(botocore.session.get_session().get_service_model("cognito-idp").operation_names)
        rows = table()
        self.assertEqual(sorted(model - rows.keys()), [], "operations of the model missing from the table")
        self.assertEqual(sorted(rows.keys() - model), [], "operations in the table the model does not have")
        self.assertEqual({s for s in rows.values()} - STATUSES, set())

    def test_the_endpoint_answers_as_the_table_says(self):
        for operation, status in table().items():
            code, body = self.stack.raw(operation, {})
            unknown = body.get("__type") == "UnknownOperationException"
            if status == "not implemented":
                self.assertEqual((code, unknown), (400, True), operation)
                self.assertEqual(body["message"], f"{operation} is not implemented by local-cognito (see its README section)")
            else:
                self.assertFalse(unknown, f"{operation} is {status} in the table but unknown to the endpoint")


class UserLife(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()
        cls.seen = set()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def sign_in(self, username):
        idp, s = self.stack.idp, self.stack
        started = idp.initiate_auth(ClientId=s.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username})
        self.assertEqual(started["ChallengeName"], "CUSTOM_CHALLENGE")
        email = s.next_email("login_link", self.seen)
        code = re.search(r"\b(\d{4}) ?(\d{4})\b", email["text"])
        code = code[1] + code[2]
        wrong = "00000000" if code != "00000000" else "11111111"
        retry = idp.respond_to_auth_challenge(
            ClientId=s.client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=started["Session"],
            ChallengeResponses={"USERNAME": username, "ANSWER": wrong},
        )
        self.assertEqual(retry["ChallengeName"], "CUSTOM_CHALLENGE", "a wrong code asks again")
        done = idp.respond_to_auth_challenge(
            ClientId=s.client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=retry["Session"],
            ChallengeResponses={"USERNAME": username, "ANSWER": code},
        )
        return done["AuthenticationResult"]

    def test_a_user_life_through_boto3(self):
        idp, s = self.stack.idp, self.stack
        idp.sign_up(
            ClientId=s.client_id,
            Username="boto",
            Password="Local-Passw0rd!",
            UserAttributes=[{"Name": "email", "Value": "boto@example.com"}],
        )
        self.assertEqual(
            error(idp.sign_up, ClientId=s.client_id, Username="BOTO", Password="Local-Passw0rd!",
                  UserAttributes=[{"Name": "email", "Value": "x@example.com"}]),
            ("UsernameExistsException", "User already exists"),
        )
        tokens = self.sign_in("boto")

        # Refresh with rotation: a new refresh token; the old one only for the grace period.
        fresh = idp.get_tokens_from_refresh_token(ClientId=s.client_id, RefreshToken=tokens["RefreshToken"])
        rotated = fresh["AuthenticationResult"]["RefreshToken"]
        self.assertNotEqual(rotated, tokens["RefreshToken"])
        time.sleep(GRACE_SECONDS + 0.2)
        self.assertEqual(
            error(idp.get_tokens_from_refresh_token, ClientId=s.client_id, RefreshToken=tokens["RefreshToken"]),
            ("NotAuthorizedException", "Invalid Refresh Token"),
        )
        self.assertEqual(
            error(idp.initiate_auth, ClientId=s.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                  AuthParameters={"REFRESH_TOKEN": rotated}),
            ("InvalidParameterException", "REFRESH_TOKEN_AUTH flow not enabled for this client"),
        )
        access = fresh["AuthenticationResult"]["AccessToken"]

        # The email change: pending until the code Cognito sends to the new address is given.
        sent = idp.update_user_attributes(
            AccessToken=access,
            UserAttributes=[{"Name": "email", "Value": "boto.new@example.org"}, {"Name": "name", "Value": "Boto"}],
        )
        self.assertEqual(sent["CodeDeliveryDetailsList"][0]["AttributeName"], "email")
        attributes = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=access)["UserAttributes"]}
        self.assertEqual((attributes["email"], attributes["name"]), ("boto@example.com", "Boto"))
        cognito = s.next_email("cognito:verify_attribute", self.seen)
        self.assertIn("boto.new@example.org", cognito["to"])
        self.assertIn("Cognito", cognito["from"])
        code = re.search(r"\d{6}", cognito["text"])[0]
        self.assertEqual(
            error(idp.verify_user_attribute, AccessToken=access, AttributeName="email",
                  Code="000000" if code != "000000" else "111111"),
            ("CodeMismatchException", "Invalid verification code provided, please try again."),
        )
        idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
        attributes = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=access)["UserAttributes"]}
        self.assertEqual((attributes["email"], attributes["email_verified"]), ("boto.new@example.org", "true"))
        self.assertEqual(
            error(idp.update_user_attributes, AccessToken=access,
                  UserAttributes=[{"Name": "email_verified", "Value": "false"}]),
            ("NotAuthorizedException", "A client attempted to write unauthorized attribute"),
        )
        idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["name"])
        self.assertEqual(idp.list_devices(AccessToken=access)["Devices"], [])

        # Operators: disable (tokens die, sign-in refused), enable, sign out everywhere.
        idp.admin_disable_user(UserPoolId=s.pool_id, Username="boto")
        self.assertEqual(error(idp.get_user, AccessToken=access),
                         ("NotAuthorizedException", "Access Token has been revoked"))
        self.assertEqual(
            error(idp.initiate_auth, ClientId=s.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "boto"}),
            ("NotAuthorizedException", "User is disabled."),
        )
        idp.admin_enable_user(UserPoolId=s.pool_id, Username="boto")
        tokens = self.sign_in("boto")
        idp.global_sign_out(AccessToken=tokens["AccessToken"])
        self.assertEqual(
            error(idp.get_tokens_from_refresh_token, ClientId=s.client_id, RefreshToken=tokens["RefreshToken"]),
            ("NotAuthorizedException", "Refresh Token has been revoked"),
        )
        self.assertEqual(
            error(idp.admin_user_global_sign_out, UserPoolId=s.pool_id, Username="nobody"),
            ("UserNotFoundException", "User does not exist."),
        )


if __name__ == "__main__":
    unittest.main(verbosity=2)
