// A person's session with the local stack in real headless Chromium, finding everything by its
// label or role: sign up, sign in, read the email in the local inbox, follow its link, land signed
// in; type the code instead; open the link in a fresh browser (it signs that browser in, once; a
// scanner's GET changes nothing); a resend too soon; three wrong codes; sign out. Every
// page is checked with axe-core (no serious or critical violation) and for console errors.
// Run by scripts/test.sh with LOCAL_STACK_BIN and CHROMIUM set.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const BIN = process.env.LOCAL_STACK_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || new URL('../../out/screenshots', import.meta.url).pathname;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const APP = 'Passwordless (local)';

let server;
let origin;
let browser;
const consoleErrors = [];

before(async () => {
  assert.ok(BIN, 'LOCAL_STACK_BIN must point at the built local-stack binary');
  mkdirSync(SHOTS, { recursive: true });
  server = spawn(BIN, ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  origin = await new Promise((resolve, reject) => {
    let seen = '';
    server.stdout.on('data', (chunk) => {
      seen += String(chunk);
      const match = /Cognito endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) resolve(match[1]);
    });
    server.on('exit', (code) => reject(new Error(`local-stack exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** A fresh browser (its own cookies and storage) whose console errors are collected. */
async function person() {
  // bypassCSP only so axe-core can be injected; the app itself runs under its CSP in every other
  // respect the test checks (its scripts come from /static).
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  context.on('page', (page) => {
    page.on('console', (m) => {
      // The API answers 401, 410 and 429 by design (a wrong code, nobody signed in, a used link,
      // a resend too soon); the browser logs every such answer as a failed load. Those, and only
      // those, are not errors of the page.
      const api = [origin, localOrigin()].some((o) => m.location().url.startsWith(`${o}/api/`));
      const apiAnswer = api && /status of (401|410|429)/.test(m.text());
      if (m.type() === 'error' && !apiAnswer) consoleErrors.push(`${page.url()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  });
  const page = await context.newPage();
  return { context, page };
}

async function noSeriousViolations(page, what) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `${what}: accessibility violations`);
}

/** The same stack at localhost: browsers offer passkeys only on a domain, never on an IP address. */
function localOrigin() {
  return origin.replace('127.0.0.1', 'localhost');
}

let counter = 0;
function newUser() {
  counter += 1;
  return { username: `person${counter}-${Date.now() % 100000}`, email: `person${counter}@example.com` };
}

async function signUp(page, user) {
  await page.goto(`${origin}/signup`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/\?username=/);
  assert.equal(await page.getByLabel('Username').inputValue(), user.username, 'the sign-in form is filled in');
}

async function askForEmail(page, user) {
  await page.getByLabel('Username').fill(user.username);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'code-heading', 'focus moves to the new step');
  const sentTo = await page.locator('#sent-to').textContent();
  assert.match(sentTo, /to your email address/);
  assert.doesNotMatch(sentTo, /@/, 'no part of the address by default');
}

/** The newest login email for the user, from the inbox's JSON, once it has arrived. */
async function latestEmail(user, notId) {
  for (let i = 0; i < 50; i++) {
    const messages = await (await fetch(`${origin}/inbox/messages.json`)).json();
    const mail = messages.find((m) => m.template === 'login_link' && m.to.includes(user.email));
    if (mail && mail.id !== notId) return mail;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no login email arrived');
}

async function latestCode(user, notId) {
  return /code=(\d+)/.exec((await latestEmail(user, notId)).text)[1];
}

test('sign up, sign in, open the email in the inbox, follow its link, land signed in, sign out', async () => {
  const { context, page } = await person();
  const user = newUser();
  await page.goto(origin);
  await noSeriousViolations(page, 'sign-in page');
  await page.screenshot({ path: `${SHOTS}/local-stack-sign-in.png` });
  await page.getByRole('link', { name: 'Create an account' }).first().click();
  await noSeriousViolations(page, 'sign-up page');
  await signUp(page, user);
  await askForEmail(page, user);
  await noSeriousViolations(page, 'check-your-email step');
  await page.screenshot({ path: `${SHOTS}/local-stack-check-email.png` });

  await page.goto(`${origin}/inbox`);
  await page.getByRole('button', { name: new RegExp(`^Sign in to ${APP.replace(/[()]/g, '\\$&')}`) }).first().click();
  const frame = page.frameLocator('#html-frame');
  await frame.getByRole('link', { name: `Sign in to ${APP}` }).first().waitFor();
  await noSeriousViolations(page, 'inbox');
  // The email at its real width: a 680 px frame (the email's card is 600 px), or a phone's 375 px.
  // (Measured from the page: the email's frame is sandboxed without scripts.)
  assert.equal(Math.round((await page.locator('#html-frame').boundingBox()).width), 680);
  await page.screenshot({ path: `${SHOTS}/local-stack-inbox.png` });
  await page.getByRole('button', { name: 'Mobile (375 px)' }).click();
  assert.equal(Math.round((await page.locator('#html-frame').boundingBox()).width), 375);
  assert.equal(await page.getByRole('button', { name: 'Mobile (375 px)' }).getAttribute('aria-pressed'), 'true');
  await page.screenshot({ path: `${SHOTS}/local-stack-inbox-mobile.png` });
  await page.getByRole('button', { name: 'Desktop (680 px)' }).click();
  await page.getByRole('tab', { name: 'Text' }).click();
  assert.match(await page.getByRole('tabpanel').first().textContent(), /verify-login#v=2&username=/);
  await page.getByRole('tab', { name: 'HTML' }).click();

  // The email's link opens a new tab of the same browser, as a mail client would.
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    frame.getByRole('link', { name: `Sign in to ${APP}` }).first().click(),
  ]);
  await tab.waitForURL(`${origin}/account`);
  await tab.getByRole('heading', { name: 'Signed in' }).waitFor();
  await tab.locator('#who').filter({ hasText: user.username }).waitFor();
  assert.equal(await tab.locator('#who').textContent(), user.username);
  assert.match(await tab.locator('#claims').textContent(), /token_use\s*id/);
  await noSeriousViolations(tab, 'account page');
  await tab.screenshot({ path: `${SHOTS}/local-stack-signed-in.png` });

  await tab.getByRole('button', { name: 'Sign out' }).click();
  await tab.waitForURL(`${origin}/`);
  await tab.goto(`${origin}/account`);
  await tab.waitForURL(`${origin}/`);
  assert.deepEqual((await context.cookies()).filter((c) => c.value !== ''), [], 'no token cookie is left');
  await context.close();
});

test('a resend within the minute is refused with the wait; typing the code from the email signs in', async () => {
  const { context, page } = await person();
  const user = newUser();
  await signUp(page, user);
  await askForEmail(page, user);
  const code = await latestCode(user);
  await page.getByRole('button', { name: 'Send a new email' }).click();
  await page.getByRole('alert').filter({ hasText: /ask for a new one in \d+ seconds/ }).waitFor();
  await noSeriousViolations(page, 'resend refused');
  // A second sign-in (another tab) keeps the email that is already on its way.
  const again = await (await fetch(`${origin}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username }),
  })).json();
  assert.equal(again.new_email, false);
  await page.getByLabel('Code').fill(`${code.slice(0, 3)} ${code.slice(3)}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/account`);
  await page.locator('#who').filter({ hasText: user.username }).waitFor();
  await context.close();
});

test('the link opened in a fresh browser signs that browser in, exactly once; a GET changes nothing', async () => {
  const asker = await person();
  const user = newUser();
  await signUp(asker.page, user);
  await askForEmail(asker.page, user);
  const mail = await latestEmail(user);
  const link = /(http:\/\/127\.0\.0\.1:\d+\/verify-login#[^\s]+)/.exec(mail.text)[1];
  assert.ok(!link.split('#')[0].includes('code='), 'the secret is only in the fragment');

  // A mail scanner fetches the link: the fragment never leaves the client, nothing is consumed.
  for (let i = 0; i < 3; i++) assert.equal((await fetch(link)).status, 200);

  const other = await person();
  await other.page.goto(link);
  await other.page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.match(await other.page.locator('#confirm').textContent(), new RegExp(user.username));
  assert.equal(new URL(other.page.url()).hash, '', 'the code leaves the address bar');
  assert.deepEqual(await other.context.cookies(), [], 'rendering the page signs nobody in');
  await noSeriousViolations(other.page, 'verify-login in a fresh browser');
  await other.page.screenshot({ path: `${SHOTS}/local-stack-link-elsewhere.png` });
  await other.page.getByRole('button', { name: 'Sign in' }).click();
  await other.page.waitForURL(`${origin}/account`);
  await other.page.locator('#who').filter({ hasText: user.username }).waitFor();
  const emails = (await (await fetch(`${origin}/inbox/messages.json`)).json()).filter((m) => m.template === 'login_link' && m.to.includes(user.email));
  assert.equal(emails.length, 1, 'one login email: the link sent none');

  // Once: the same link in a third browser does not sign it in.
  const third = await person();
  await third.page.goto(link);
  await third.page.getByRole('button', { name: 'Sign in' }).click();
  await third.page.getByRole('alert').filter({ hasText: 'already used' }).waitFor();
  assert.deepEqual((await third.context.cookies()).filter((c) => c.name.endsWith('token')), []);
  await noSeriousViolations(third.page, 'used link');
  for (const c of [asker, other, third]) await c.context.close();
});

test('three wrong codes end the sign-in; the emailed code still works in a new one', async () => {
  const { context, page } = await person();
  const user = newUser();
  await signUp(page, user);
  await askForEmail(page, user);
  const code = await latestCode(user);
  const wrong = code === '000000' ? '111111' : '000000';
  const alert = page.getByRole('alert');
  for (const left of ['2 tries left', '1 try left']) {
    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await alert.filter({ hasText: left }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code', 'focus returns to the code field');
  }
  await page.getByLabel('Code').fill(wrong);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await alert.filter({ hasText: 'Ask for a new email' }).waitFor();
  await noSeriousViolations(page, 'failed sign-in');
  await page.screenshot({ path: `${SHOTS}/local-stack-ask-new-email.png` });
  // The right code no longer helps; a new email does.
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await alert.filter({ hasText: 'Ask for a new email' }).waitFor();
  // The emailed code took 3 of its 5 wrong answers and has not expired: a new sign-in reuses
  // it, sends nothing, and says so.
  await page.getByRole('button', { name: 'Send a new email' }).click();
  await page.locator('#sent-to').filter({ hasText: 'We already sent' }).waitFor();
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/account`);
  await context.close();
});

test('the developer pages answer and are accessible', async () => {
  const { context, page } = await person();
  await page.goto(`${origin}/dev/queue`);
  await page.getByRole('heading', { name: 'Dead-letter queue' }).waitFor();
  await noSeriousViolations(page, 'mail queue page');
  const config = await (await fetch(`${origin}/dev/config`)).json();
  assert.deepEqual(Object.keys(config).sort(), ['client_id', 'cognito_endpoint', 'issuer', 'region', 'user_pool_id']);
  assert.equal(config.cognito_endpoint, origin);
  await context.close();
});

/** The inbox's messages of one template to one address. */
async function emailsOf(template, user) {
  const messages = await (await fetch(`${origin}/inbox/messages.json`)).json();
  return messages.filter((m) => m.template === template && m.to.includes(user.email));
}

async function arrives(template, user) {
  for (let i = 0; i < 50 && (await emailsOf(template, user)).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await emailsOf(template, user)).length, 1, `one ${template} email`);
}

test('a passkey added after an email sign-in signs in with no email, until it is removed', async () => {
  const { context, page } = await person();
  // A platform authenticator with resident keys and user verification, as a phone or laptop has.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  const local = localOrigin();
  const user = newUser();
  await page.goto(`${local}/signup`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/\?username=/);
  await askForEmail(page, user);
  await page.getByLabel('Code').fill(await latestCode(user));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${local}/account`);

  // Offered once, then added; the account's address is told.
  await page.getByText('Sign in faster next time: add a passkey').waitFor();
  await noSeriousViolations(page, 'account page with the passkey offer');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('status').filter({ hasText: 'Passkey added' }).waitFor();
  await page.getByRole('button', { name: 'Remove passkey Passkey on this device' }).waitFor();
  assert.equal(await page.getByText('Sign in faster next time: add a passkey').isVisible(), false, 'no longer offered');
  await noSeriousViolations(page, 'account page with a passkey');
  await page.screenshot({ path: `${SHOTS}/local-stack-passkeys.png` });
  await arrives('passkey_added', user);

  // Signed out, the button signs in with the passkey alone: no new sign-in email.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${local}/`);
  await noSeriousViolations(page, 'sign-in page with the passkey button');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(`${local}/account`);
  await page.locator('#who').filter({ hasText: user.username }).waitFor();
  assert.equal((await emailsOf('login_link', user)).length, 1, 'the passkey sign-in sent no email');

  // Typing the username on this device offers the passkey before any email.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${local}/`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.waitForURL(`${local}/account`);
  assert.equal((await emailsOf('login_link', user)).length, 1, 'still one sign-in email');

  // Removed, it signs nobody in (the authenticator still holds it); the address is told.
  await page.getByRole('button', { name: 'Remove passkey Passkey on this device' }).click();
  await page.getByRole('status').filter({ hasText: 'removed' }).waitFor();
  await arrives('passkey_removed', user);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${local}/`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByRole('alert').filter({ hasText: 'cannot be used here' }).waitFor();
  await noSeriousViolations(page, 'refused passkey');
  assert.equal(new URL(page.url()).pathname, '/');
  await context.close();
});

test('no page logged a console error', () => {
  assert.deepEqual(consoleErrors, []);
});

test('the sign-in page says live what became of the email: delivered, or refused with advice', async () => {
  const { context, page } = await person();
  const user = newUser();
  await signUp(page, user);
  await askForEmail(page, user);
  await page.getByRole('status').filter({ hasText: 'Delivered to your mail provider' }).waitFor();
  await noSeriousViolations(page, 'check-your-email step, delivered');

  // SES's mailbox simulator: mail to bounce@ bounces, and the person waiting is told at once.
  const bouncing = { username: `bouncer-${Date.now() % 100000}`, email: 'bounce@simulator.amazonses.com' };
  const { page: other } = await person();
  await signUp(other, bouncing);
  await other.getByLabel('Username').fill(bouncing.username);
  await other.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await other.getByRole('status').filter({ hasText: 'Your mail provider refused the email: check the address on your account.' }).waitFor();
  await noSeriousViolations(other, 'check-your-email step, bounced');
  await other.screenshot({ path: `${SHOTS}/local-stack-bounced.png` });

  // The inbox lists each message's events; /dev/queue shows the feedback queue.
  await other.goto(`${origin}/inbox`);
  await other.getByRole('button', { name: new RegExp(`^Sign in to ${APP.replace(/[()]/g, '\\$&')}`) }).first().click();
  await other.locator('#v-events').filter({ hasText: 'Bounce: Permanent (General)' }).waitFor();
  await other.goto(`${origin}/dev/queue`);
  await other.getByRole('heading', { name: 'Feedback queue' }).waitFor();
  assert.ok(Number(await other.locator('#feedback-applied').textContent()) >= 4, 'Send+Delivery, Send+Bounce applied');
  await context.close();
});
