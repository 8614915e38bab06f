// The local stack's front end: one small script, one function per page (body[data-page]).
'use strict';

const $ = (id) => document.getElementById(id);
const PENDING = 'passwordless.pending-sign-in';

function say(text) { $('status').textContent = text; $('error').textContent = ''; }
function fail(text) { $('error').textContent = text; $('status').textContent = ''; }

async function api(path, body, method) {
  const response = await fetch(`/api${path}`, {
    method: method || (body === undefined ? 'GET' : 'POST'),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function pending() {
  try { return JSON.parse(localStorage.getItem(PENDING)); } catch { return null; }
}

/** Sends the code; on success goes to the account page. Returns the API's answer otherwise. */
async function verify(p, code) {
  const answer = await api('/verify-login', { username: p.username, session: p.session, code });
  if (answer.status === 200) {
    localStorage.removeItem(PENDING);
    location.assign('/account');
    return null;
  }
  if (answer.body && answer.body.error === 'wrong_code') {
    localStorage.setItem(PENDING, JSON.stringify({ ...p, session: answer.body.session, attempts_left: answer.body.attempts_left }));
  } else if (answer.body && (answer.body.error === 'sign_in_failed' || answer.body.error === 'session_expired')) {
    // Keep the username so "Send a new email" can start again; the session is spent.
    localStorage.setItem(PENDING, JSON.stringify({ ...p, session: null }));
  }
  return answer;
}

function explain(answer) {
  const b = answer.body || {};
  if (b.error === 'too_many_emails' || b.error === 'resend_too_soon' || b.error === 'link_expired') return b.message;
  if (b.error === 'wrong_code') {
    return `That code is not right. ${b.attempts_left} ${b.attempts_left === 1 ? 'try' : 'tries'} left.`;
  }
  if (b.error === 'sign_in_failed' || b.error === 'session_expired') {
    return 'This sign-in can no longer be completed. Ask for a new email.';
  }
  return b.message || 'Something went wrong. Try again.';
}

// What the person waiting is told about their email (GET /api/login/status).
const DELIVERY_TEXT = {
  queued: 'Sending your email…',
  sent: 'Your email is on its way.',
  delayed: 'Your mail provider has not accepted the email yet. It can take a few minutes.',
  delivered: 'Delivered to your mail provider. If it is not in your inbox, look in the spam folder.',
  bounced: 'Your mail provider refused the email: check the address on your account.',
  complained: 'This email was reported as spam, so we send no more email to this address. Contact support to sign in.',
};

let deliveryTimer = null;

/** Polls the email's delivery status for the pending sign-in until it is final or over. */
function watchDelivery() {
  clearTimeout(deliveryTimer);
  const started = Date.now();
  const poll = async () => {
    const p = pending();
    if (!p || !p.session || new Date(p.expires_at) <= new Date()) return;
    const response = await fetch('/api/login/status', { headers: { 'x-sign-in-session': p.session }, credentials: 'same-origin' });
    if (response.status !== 200) return;
    const s = await response.json();
    const text = s.status === 'bounced' && s.reason === 'suppressed'
      ? 'Email to the address on your account was refused before, so we did not send one: check the address on your account.'
      : DELIVERY_TEXT[s.status];
    if (text && $('delivery-status').textContent !== text) $('delivery-status').textContent = text;
    // Every second while an email usually arrives, then gently (each poll is three table reads).
    if (!s.final) deliveryTimer = setTimeout(poll, Date.now() - started < 15000 ? 1000 : 4000);
  };
  poll();
}

// Passkeys (docs/passkeys.md). Which usernames have a passkey on this device is kept on the device
// only: the server is never asked whether a name has one, so the page reveals nothing about it.
const PASSKEY_USERS = 'passwordless.passkey-users';
const PASSKEY_OFFER_DISMISSED = 'passwordless.passkey-offer-dismissed';

function passkeyUsers() {
  try { return JSON.parse(localStorage.getItem(PASSKEY_USERS)) || []; } catch { return []; }
}

function rememberPasskeyUser(username) {
  const users = passkeyUsers().filter((u) => u !== username);
  localStorage.setItem(PASSKEY_USERS, JSON.stringify([username, ...users].slice(0, 10)));
}

/** Browsers offer passkeys only on a domain: on an IP address, point to the same page at localhost. */
function passkeysHere() {
  if (window.PublicKeyCredential && location.hostname === 'localhost') return true;
  if (location.hostname !== 'localhost') {
    $('passkey-here').href = `${location.protocol}//localhost:${location.port}${location.pathname}`;
    $('passkey-elsewhere').hidden = false;
  }
  return false;
}

/** A discoverable passkey sign-in. Returns null when signed in (the page moves on), else a message. */
async function passkeySignIn() {
  const options = await api('/passkey/sign-in/options', {});
  if (options.status !== 200) return explain(options);
  let credential;
  try {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.body.publicKey);
    credential = await navigator.credentials.get({ publicKey });
  } catch {
    return 'No passkey was used.';
  }
  const answer = await api('/passkey/sign-in', { ceremony: options.body.ceremony, credential: credential.toJSON() });
  if (answer.status !== 200) return explain(answer);
  rememberPasskeyUser(answer.body.username);
  localStorage.removeItem(PENDING);
  location.assign('/account');
  return null;
}

const pages = {
  'sign-in'() {
    const time = (t) => new Date(t).toLocaleTimeString();
    const showCode = (p) => {
      $('step-username').hidden = true;
      $('step-code').hidden = false;
      // The API names no part of the address unless the operator opted in (EMAIL_HINT=masked).
      const what = `a sign-in link and a ${p.code_length}-digit code to ${p.destination || 'your email address'}`;
      const sent = p.sent_at ? ` at ${time(p.sent_at)}` : '';
      $('sent-to').textContent = p.new_email === false
        ? `We already sent ${what}${sent}, and it still works: use that email. It works until ${time(p.expires_at)}.`
        : `We sent ${what}${sent}. It works until ${time(p.expires_at)}.`;
      $('delivery-status').textContent = '';
      watchDelivery();
      $('code-heading').focus();
    };
    const showUsername = () => {
      $('step-code').hidden = true;
      $('step-username').hidden = false;
    };
    const start = async (username) => {
      say('Sending…');
      const answer = await api('/login', { username });
      if (answer.status !== 200) { fail(explain(answer)); $('username').focus(); return; }
      const p = { username, ...answer.body };
      localStorage.setItem(PENDING, JSON.stringify(p));
      say('');
      showCode(p);
    };
    const given = new URLSearchParams(location.search).get('username');
    if (given) $('username').value = given;
    const p = pending();
    if (p && new Date(p.expires_at) > new Date()) showCode(p);

    $('login-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const username = $('username').value.trim();
      if (!username) { fail('Enter your username.'); $('username').focus(); return; }
      // This device added or used a passkey for this name: offer it before any email goes out.
      if (passkeysHere() && passkeyUsers().includes(username)) {
        say('Use your passkey, or cancel to get an email instead.');
        if ((await passkeySignIn()) === null) return;
      }
      start(username);
    });
    passkeysHere();
    $('passkey-button').addEventListener('click', async () => {
      if (!passkeysHere()) { fail('Open this page at localhost to use a passkey.'); return; }
      say('Waiting for your passkey…');
      const problem = await passkeySignIn();
      if (problem) fail(`${problem} You can sign in with an email instead.`);
    });
    $('code-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const code = $('code').value.trim();
      const p = pending();
      if (!code) { fail('Enter the code from the email.'); $('code').focus(); return; }
      if (!p) { showUsername(); fail('Start by entering your username.'); $('username').focus(); return; }
      if (!p.session) { fail('This sign-in can no longer be completed. Ask for a new email.'); $('new-email').focus(); return; }
      say('Checking…');
      const answer = await verify(p, code);
      if (!answer) return;
      fail(explain(answer));
      if (answer.body && answer.body.error === 'wrong_code') {
        $('code').value = '';
        $('code').focus();
      } else {
        $('new-email').focus();
      }
    });
    $('new-email').addEventListener('click', async () => {
      const p = pending();
      if (!p) { showUsername(); $('username').focus(); return; }
      if (!p.session) { localStorage.removeItem(PENDING); start(p.username); return; }
      say('Asking for a new email…');
      const answer = await api('/resend', { username: p.username, session: p.session });
      const b = answer.body || {};
      if (answer.status === 200) {
        const next = { ...p, ...b };
        localStorage.setItem(PENDING, JSON.stringify(next));
        showCode(next);
        say('We sent a new email. Use the newest one: the code in the earlier email no longer works.');
        return;
      }
      if (b.session) localStorage.setItem(PENDING, JSON.stringify({ ...p, ...b }));
      if (b.error === 'sign_in_failed' || b.error === 'session_expired') { localStorage.removeItem(PENDING); start(p.username); return; }
      fail(explain(answer));
    });
  },

  'sign-up'() {
    $('signup-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { username: $('username').value.trim(), email: $('email').value.trim() };
      if ($('name').value.trim()) body.name = $('name').value.trim();
      if (navigator.language) body.locale = navigator.language;
      say('Creating your account…');
      const answer = await api('/signup', body);
      if (answer.status === 201) {
        say('Account created. Taking you to sign in…');
        location.assign(`/?username=${encodeURIComponent(answer.body.username)}`);
        return;
      }
      fail(explain(answer));
      const field = answer.body && answer.body.field;
      if (field && $(field)) { $(field).setAttribute('aria-invalid', 'true'); $(field).focus(); }
    });
  },

  async 'verify-login'() {
    // Link format 2 keeps the secret in the fragment, which no request carries; format 1 (query)
    // links may still sit in mailboxes.
    const params = new URLSearchParams(location.hash.length > 1 ? location.hash.slice(1) : location.search);
    const username = params.get('username');
    const code = params.get('code');
    // The code leaves the address bar (and history) at once.
    history.replaceState(null, '', '/verify-login');
    const stop = (text) => { $('status').textContent = ''; fail(text); $('fallback').hidden = false; };
    if (!username || !code) { stop('This link is incomplete. Copy the whole link from the email, or type the code.'); return; }
    const p = pending();
    if (p && p.session && p.username.toLowerCase() === username.toLowerCase()) {
      // This browser asked for the email: finish the sign-in it started.
      const answer = await verify(p, code);
      if (answer) stop(`${explain(answer)} You can also type the code on the sign-in page.`);
      return;
    }
    // Opened somewhere else (another browser, another device): sign in here on an explicit click,
    // so nothing that merely fetches or renders the page can use the code.
    $('status').textContent = '';
    $('confirm-user').textContent = username;
    $('confirm').hidden = false;
    $('confirm-button').focus();
    $('confirm-button').addEventListener('click', async () => {
      $('confirm-button').disabled = true;
      say('Signing in…');
      // No session: the API starts a sign-in here, which reuses the emailed code.
      const answer = await verify({ username }, code);
      if (!answer) return;
      $('confirm').hidden = true;
      const b = answer.body || {};
      // The API started a sign-in here: the sign-in page can take the newest email's code.
      if (b.session) localStorage.setItem(PENDING, JSON.stringify({ username, ...b }));
      stop(explain(answer));
    }, { once: true });
  },

  async account() {
    const answer = await api('/me');
    if (answer.status !== 200) { location.replace('/'); return; }
    const claims = answer.body.claims;
    $('who').textContent = claims['cognito:username'];
    for (const [name, value] of Object.entries(claims)) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = typeof value === 'string' ? value : JSON.stringify(value);
      $('claims').append(dt, dd);
    }
    const username = claims['cognito:username'];
    const when = (t) => (t ? new Date(t).toLocaleString() : 'never');
    const list = async () => {
      const answer = await api('/passkeys');
      $('passkey-list').replaceChildren();
      for (const p of (answer.body && answer.body.passkeys) || []) {
        const item = document.createElement('li');
        const text = document.createElement('span');
        const kind = p.authenticator ? ` (${p.authenticator})` : '';
        text.textContent = `${p.name}${kind}: added ${when(p.created_at)}, last used ${when(p.last_used_at)}. `;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'secondary';
        remove.textContent = `Remove passkey ${p.name}`;
        remove.addEventListener('click', async () => {
          const gone = await api(`/passkeys/${encodeURIComponent(p.id)}`, undefined, 'DELETE');
          if (gone.status !== 200) { fail(explain(gone)); return; }
          say(`Passkey ${p.name} removed. It can no longer sign you in.`);
          list();
        });
        item.append(text, remove);
        $('passkey-list').append(item);
      }
    };
    if (passkeysHere()) {
      // Offered once per device, until added or dismissed.
      $('passkey-offer').hidden = localStorage.getItem(PASSKEY_OFFER_DISMISSED) === 'yes' || passkeyUsers().includes(username);
      list();
    }
    $('passkey-dismiss').addEventListener('click', () => {
      localStorage.setItem(PASSKEY_OFFER_DISMISSED, 'yes');
      $('passkey-offer').hidden = true;
      $('add-passkey').focus();
    });
    $('add-passkey').addEventListener('click', async () => {
      if (!passkeysHere()) { fail('Open this page at localhost to add a passkey.'); return; }
      say('Follow your browser to create the passkey…');
      const options = await api('/passkeys/register/options', {});
      if (options.status !== 200) { fail(explain(options)); return; }
      let credential;
      try {
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.body.publicKey);
        credential = await navigator.credentials.create({ publicKey });
      } catch {
        fail('No passkey was added.');
        return;
      }
      const added = await api('/passkeys/register', { ceremony: options.body.ceremony, credential: credential.toJSON(), name: 'Passkey on this device' });
      if (added.status !== 201) { fail(explain(added)); return; }
      rememberPasskeyUser(username);
      $('passkey-offer').hidden = true;
      say('Passkey added. Next time, sign in with it: no email needed.');
      list();
    });
    $('sign-out').addEventListener('click', async () => {
      say('Signing out…');
      await api('/logout', {});
      location.assign('/');
    });
  },

  inbox() {
    let selected = null;
    let known = '';
    const show = (m) => {
      selected = m.id;
      $('viewer').hidden = false;
      $('viewer-heading').textContent = m.subject;
      $('v-from').textContent = m.from;
      $('v-to').textContent = m.to;
      $('v-received').textContent = new Date(m.received_at).toLocaleString();
      $('v-template').textContent = `${m.template} (${m.locale})`;
      $('v-events').textContent = (m.events || []).length === 0
        ? 'none (not sent through SES)'
        : m.events.map((e) => (e.detail ? `${e.event}: ${e.detail}` : e.event)).join(', ');
      // The email's links open a new tab (they say target="_blank"), as a mail client opens them.
      $('html-frame').srcdoc = m.html;
      $('v-text').textContent = m.text;
      $('v-source').textContent = m.html;
      for (const b of document.querySelectorAll('#messages button')) b.setAttribute('aria-current', String(b.dataset.id === m.id));
    };
    for (const [id, mobile] of [['width-desktop', false], ['width-mobile', true]]) {
      $(id).addEventListener('click', () => {
        $('html-frame').classList.toggle('mobile', mobile);
        $('width-desktop').setAttribute('aria-pressed', String(!mobile));
        $('width-mobile').setAttribute('aria-pressed', String(mobile));
      });
    }
    const tabs = ['html', 'text', 'source'];
    const selectTab = (name) => {
      for (const t of tabs) {
        const on = t === name;
        $(`tab-${t}`).setAttribute('aria-selected', String(on));
        $(`tab-${t}`).tabIndex = on ? 0 : -1;
        $(`panel-${t}`).hidden = !on;
      }
    };
    tabs.forEach((t, i) => {
      $(`tab-${t}`).addEventListener('click', () => selectTab(t));
      $(`tab-${t}`).addEventListener('keydown', (e) => {
        const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!step) return;
        const next = tabs[(i + step + tabs.length) % tabs.length];
        selectTab(next);
        $(`tab-${next}`).focus();
      });
    });
    const refresh = async () => {
      const response = await fetch('/inbox/messages.json');
      const messages = await response.json();
      const ids = messages.map((m) => m.id).join();
      if (ids === known) return;
      known = ids;
      $('empty').hidden = messages.length > 0;
      $('messages').replaceChildren(...messages.map((m) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.id = m.id;
        b.setAttribute('aria-controls', 'viewer');
        b.append(m.subject);
        const small = document.createElement('small');
        small.textContent = `To ${m.to} · ${new Date(m.received_at).toLocaleTimeString()}`;
        b.append(small);
        b.addEventListener('click', () => show(m));
        li.append(b);
        return li;
      }));
      const current = messages.find((m) => m.id === selected) || messages[0];
      if (current) show(current);
    };
    refresh();
    setInterval(refresh, 1000);
  },
};

const run = pages[document.body.dataset.page];
if (run) run();
