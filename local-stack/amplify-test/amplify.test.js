// Amplify JS v6 (pinned in package.json), used as an app uses it, against the real local-stack
// binary: sign-up, custom-auth sign-in with a wrong then the emailed code, attributes read and
// updated, an email change verified with the code Cognito emails (from the local inbox), a forced
// refresh with rotation (the rotated-out refresh token refused after the grace period), devices,
// global sign-out (then refresh fails), delete user. Run by scripts/test.sh with LOCAL_STACK_BIN.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Amplify } from 'aws-amplify';
import {
  confirmSignIn, confirmUserAttribute, deleteUser, fetchAuthSession, fetchDevices, fetchUserAttributes,
  getCurrentUser, signIn, signOut, signUp, updateUserAttributes,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';

const BIN = process.env.LOCAL_STACK_BIN;
const GRACE_SECONDS = 1;
let server;
let origin;
let config;
const seen = new Set();

/** Amplify's token storage, readable by the test (the refresh token it holds). */
const storage = new Map();
const keyValueStorage = {
  async setItem(k, v) { storage.set(k, v); },
  async getItem(k) { return storage.has(k) ? storage.get(k) : null; },
  async removeItem(k) { storage.delete(k); },
  async clear() { storage.clear(); },
};
const heldRefreshToken = () => [...storage].find(([k]) => k.endsWith('.refreshToken'))?.[1];

before(async () => {
  assert.ok(BIN, 'LOCAL_STACK_BIN must point at the built local-stack binary');
  server = spawn(BIN, ['--listen', '127.0.0.1:0', '--refresh-grace-seconds', String(GRACE_SECONDS)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  origin = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += String(chunk);
      const match = /Cognito endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]);
    });
    server.on('exit', (code) => reject(new Error(`local-stack exited with ${code}`)));
  });
  config = await (await fetch(`${origin}/dev/config`)).json();
  // What an app copies from /dev/config (or the CDK outputs) into its Amplify configuration.
  Amplify.configure({
    Auth: { Cognito: { userPoolId: config.user_pool_id, userPoolClientId: config.client_id, userPoolEndpoint: origin } },
  });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(keyValueStorage);
});

after(() => server?.kill());

/** The newest email of this template not seen before, waiting for the mailer. */
async function nextEmail(template) {
  for (let i = 0; i < 200; i++) {
    const messages = await (await fetch(`${origin}/inbox/messages.json`)).json();
    const m = messages.find((x) => x.template === template && !seen.has(x.id));
    if (m) { seen.add(m.id); return m; }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${template} email arrived`);
}

/** A Cognito call over the wire, for what Amplify does not expose (the old refresh token). */
async function cognito(operation, body) {
  const response = await fetch(`${origin}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function signInWithEmailedCode(username) {
  const started = await signIn({ username, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
  assert.equal(started.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
  const email = await nextEmail('login_link');
  const [, a, b] = /\b(\d{4}) ?(\d{4})\b/.exec(email.text);
  const code = a + b;
  const wrong = await confirmSignIn({ challengeResponse: code === '00000000' ? '11111111' : '00000000' });
  assert.equal(wrong.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE', 'a wrong code asks again');
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.isSignedIn, true);
  assert.equal(done.nextStep.signInStep, 'DONE');
}

test('an Amplify JS v6 app: sign-up to delete, refresh with rotation included', async () => {
  const up = await signUp({ username: 'amy', password: 'Local-Passw0rd!', options: { userAttributes: { email: 'amy@example.com' } } });
  assert.equal(up.isSignUpComplete, true, 'pre-sign-up confirms at once');

  await signInWithEmailedCode('amy');
  assert.equal((await getCurrentUser()).username, 'amy');
  let attributes = await fetchUserAttributes();
  assert.equal(attributes.email, 'amy@example.com');
  assert.equal(attributes.email_verified, 'true', 'the first emailed sign-in proves the address');

  // Profile edit and email change: the change waits for the code sent to the new address.
  const updated = await updateUserAttributes({ userAttributes: { name: 'Amy', email: 'amy.new@example.org' } });
  assert.equal(updated.name.isUpdated, true);
  assert.equal(updated.email.isUpdated, false);
  assert.equal(updated.email.nextStep.updateAttributeStep, 'CONFIRM_ATTRIBUTE_WITH_CODE');
  attributes = await fetchUserAttributes();
  assert.equal(attributes.email, 'amy@example.com', 'keepOriginal: the old address until the code');
  assert.equal(attributes.name, 'Amy');
  const verification = await nextEmail('cognito:verify_attribute');
  assert.match(verification.to, /amy\.new@example\.org/);
  assert.match(verification.from, /Cognito/);
  await confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: /\d{6}/.exec(verification.text)[0] });
  attributes = await fetchUserAttributes();
  assert.equal(attributes.email, 'amy.new@example.org');
  assert.equal(attributes.email_verified, 'true');

  // A forced refresh goes through GetTokensFromRefreshToken; rotation gives Amplify a new token.
  const before = await fetchAuthSession();
  const oldRefresh = heldRefreshToken();
  assert.ok(oldRefresh);
  const refreshed = await fetchAuthSession({ forceRefresh: true });
  assert.notEqual(refreshed.tokens.accessToken.toString(), before.tokens.accessToken.toString());
  assert.equal(refreshed.tokens.idToken.payload.email, 'amy.new@example.org', 'the new ID token has the new address');
  const newRefresh = heldRefreshToken();
  assert.ok(newRefresh && newRefresh !== oldRefresh, 'Amplify holds the rotated refresh token');
  await new Promise((r) => setTimeout(r, GRACE_SECONDS * 1000 + 200));
  const stale = await cognito('GetTokensFromRefreshToken', { ClientId: config.client_id, RefreshToken: oldRefresh });
  assert.deepEqual([stale.status, stale.body.__type, stale.body.message], [400, 'NotAuthorizedException', 'Invalid Refresh Token']);
  await fetchAuthSession({ forceRefresh: true });

  assert.deepEqual(await fetchDevices(), [], 'device tracking is off');

  // Global sign-out: the refresh token Amplify held no longer refreshes.
  const held = heldRefreshToken();
  await signOut({ global: true });
  const after = await cognito('GetTokensFromRefreshToken', { ClientId: config.client_id, RefreshToken: held });
  assert.equal(after.body.__type, 'NotAuthorizedException');
  assert.equal(after.body.message, 'Refresh Token has been revoked');

  await signInWithEmailedCode('amy');
  await deleteUser();
  const gone = await cognito('AdminGetUser', { UserPoolId: config.user_pool_id, Username: 'amy' });
  assert.equal(gone.body.__type, 'UserNotFoundException');
});
