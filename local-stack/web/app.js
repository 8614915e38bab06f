// The local stack's front end: one small script, one function per page (body[data-page]).
'use strict';

const $ = (id) => document.getElementById(id);
const PENDING = 'passwordless.pending-sign-in';

function say(text) { $('status').textContent = text; $('error').textContent = ''; }
function fail(text) { $('error').textContent = text; $('status').textContent = ''; }

async function api(path, body) {
  const response = await fetch(`/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
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

function spaced(code) { return code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code; }

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
  if (b.error === 'wrong_code') {
    return `That code is not right. ${b.attempts_left} ${b.attempts_left === 1 ? 'try' : 'tries'} left.`;
  }
  if (b.error === 'sign_in_failed' || b.error === 'session_expired') {
    return 'This sign-in can no longer be completed. Ask for a new email.';
  }
  return b.message || 'Something went wrong. Try again.';
}

const pages = {
  'sign-in'() {
    const showCode = (p) => {
      $('step-username').hidden = true;
      $('step-code').hidden = false;
      $('sent-to').textContent = `We sent a sign-in link and a ${p.code_length}-digit code to ${p.destination}. It works until ${new Date(p.expires_at).toLocaleTimeString()}.`;
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

    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const username = $('username').value.trim();
      if (!username) { fail('Enter your username.'); $('username').focus(); return; }
      start(username);
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
    $('new-email').addEventListener('click', () => {
      const p = pending();
      localStorage.removeItem(PENDING);
      if (p) { start(p.username); } else { showUsername(); $('username').focus(); }
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
    const query = new URLSearchParams(location.search);
    const username = query.get('username');
    const code = query.get('code');
    // The code leaves the address bar (and any later Referer) at once.
    history.replaceState(null, '', '/verify-login');
    const p = pending();
    if (!username || !code) { $('status').textContent = ''; fail('This link is incomplete. Copy the whole link from the email, or type the code.'); return; }
    if (!p || p.username.toLowerCase() !== username.toLowerCase()) {
      $('verify-heading').textContent = 'Open this link where you asked for it';
      $('status').textContent = '';
      $('elsewhere-code').textContent = spaced(code);
      $('elsewhere').hidden = false;
      $('verify-heading').focus();
      return;
    }
    if (!p.session) {
      $('status').textContent = '';
      fail('This sign-in can no longer be completed. Ask for a new email on the sign-in page.');
      return;
    }
    const answer = await verify(p, code);
    if (!answer) return;
    $('status').textContent = '';
    fail(`${explain(answer)} You can also type the code on the sign-in page.`);
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
      // The email's links open a new tab (they say target="_blank"), as a mail client opens them.
      $('html-frame').srcdoc = m.html;
      $('v-text').textContent = m.text;
      $('v-source').textContent = m.html;
      for (const b of document.querySelectorAll('#messages button')) b.setAttribute('aria-current', String(b.dataset.id === m.id));
    };
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
