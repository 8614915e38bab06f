// A designer's session in real headless Chromium: open the index, pick a template, switch to
// mobile width, dark mode and the plain-text tab, asserting on what the page shows and saving
// screenshots. Run by scripts/test.sh with MAIL_PREVIEW_BIN and CHROMIUM set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BIN = process.env.MAIL_PREVIEW_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || new URL('../../out/screenshots', import.meta.url).pathname;

function startServer() {
  const server = spawn(BIN, ['serve', '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(String(chunk));
      if (match) resolve(match[0]);
    });
    server.on('exit', (code) => reject(new Error(`mail-preview exited with ${code}`)));
  });
  return { server, url };
}

test('a designer previews, resizes, darkens and reads the text of an email', async () => {
  assert.ok(BIN, 'MAIL_PREVIEW_BIN must point at the built mail-preview binary');
  mkdirSync(SHOTS, { recursive: true });
  const { server, url } = startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(await url);

    // The index lists every template, with fixtures and locales.
    const templates = await page.locator('aside h2').allTextContents();
    assert.deepEqual(templates, ['login_link', 'passkey_added', 'passkey_removed', 'welcome']);
    assert.ok(await page.locator('aside a[data-fixture="long-username"]').count() >= 8);

    // Select a template × fixture × locale.
    await page.click('aside a[data-template="login_link"][data-fixture="long-username"][data-locale="de"]');
    await page.waitForURL(/t=login_link&f=long-username&l=de/);
    assert.equal(await page.textContent('#h-subject'), 'Bei Acme anmelden');
    assert.match(await page.textContent('#h-to'), /<maximiliane\.wolkenstein-oberhausen@example\.com>$/);
    assert.equal(await page.textContent('#h-tags'), 'template=login_link, locale=de');
    const frame = page.frameLocator('#frame');
    await frame.locator('td', { hasText: '905127' }).first().waitFor();
    assert.equal(await frame.locator('html').getAttribute('lang'), 'de');
    assert.equal(await frame.locator('a', { hasText: 'Bei Acme anmelden' }).getAttribute('href'),
      'https://app.example.com/verify-login#v=2&username=maximiliane.theodora.wolkenstein-oberhausen.rheinfelden&code=905127');
    await page.screenshot({ path: `${SHOTS}/preview-desktop.png` });

    // Mobile width: the frame is 375 px and the email fits without sideways scrolling.
    await page.click('#btn-mobile');
    await page.waitForFunction(() => document.getElementById('frame').getBoundingClientRect().width === 375);
    assert.equal(await page.getAttribute('#btn-mobile', 'aria-pressed'), 'true');
    const overflow = await frame.locator('html').evaluate((el) => el.scrollWidth - el.clientWidth);
    assert.ok(overflow <= 0, `the email scrolls sideways by ${overflow}px at 375px`);
    await page.screenshot({ path: `${SHOTS}/preview-mobile.png` });

    // Emulated dark mode: the template's dark rules apply to the card.
    await page.click('#btn-dark');
    await page.waitForFunction(() => document.getElementById('frame').src.includes('dark=true'));
    // The frame reloads with the dark variant; poll until the new document has styled the card.
    let card;
    for (let i = 0; i < 50 && card !== 'rgb(28, 31, 38)'; i++) {
      card = await frame.locator('table.bg-card').evaluate((el) => getComputedStyle(el).backgroundColor).catch(() => undefined);
      if (card !== 'rgb(28, 31, 38)') await page.waitForTimeout(100);
    }
    assert.equal(card, 'rgb(28, 31, 38)');
    await page.screenshot({ path: `${SHOTS}/preview-mobile-dark.png` });

    // The plain-text tab shows the text part with the link and the spaced code.
    await page.click('#tab-text');
    assert.equal(await page.isVisible('#panel-text'), true);
    assert.equal(await page.isVisible('#frame'), false);
    const text = await page.textContent('#panel-text');
    assert.match(text, /905 127/);
    assert.match(text, /https:\/\/app\.example\.com\/verify-login#v=2&username=maximiliane\.theodora/);
    await page.screenshot({ path: `${SHOTS}/preview-text.png` });

    // The raw MIME tab and the .eml download link.
    await page.click('#tab-mime');
    assert.match(await page.textContent('#panel-mime'), /Content-Type: multipart\/alternative/);
    assert.match(await page.getAttribute('#download-eml', 'href'), /^\/email\.eml\?t=login_link&f=long-username&l=de$/);

    // The passkey notices: the passkey's name and the link to review them.
    await page.click('aside a[data-template="passkey_added"][data-fixture="default"][data-locale="fr"]');
    await page.waitForURL(/t=passkey_added&f=default&l=fr/);
    assert.equal(await page.textContent('#h-subject'), "Une clé d'accès a été ajoutée à votre compte Acme");
    await page.click('#tab-preview');
    await frame.locator('a', { hasText: "Voir vos clés d'accès" }).waitFor();
    assert.equal(await frame.locator('a', { hasText: "Voir vos clés d'accès" }).getAttribute('href'), 'https://app.example.com/account');
    await page.screenshot({ path: `${SHOTS}/preview-passkey-added.png` });
  } finally {
    await browser.close();
    server.kill();
  }
});
