// Certificate revocation against the real server: a CA and a device certificate made with
// openssl at test time; the device gets a token over mutual TLS (Node's https, against the
// server's device listener); it is revoked from the devices page and refused once the offline
// check is on, and the devices page says why. Also the CRL settings: a CSV file with a wrong
// row is refused in the browser (nothing sent), a right one is added, the template and the CRL
// download.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { APIRequestContext, Page, Request, expect, test } from '@playwright/test';
import {
  DevicePki, adminAuth, deviceToken, logInAs, makeDevicePki, navigate, openConsole, tempFile, tenantId, unique,
} from './support';

const OFFLINE = '/tenant/options/configuration/crl.offline.check.enabled';
const CRL = '/tenant/trusted-certificates/settings/crl';

/** A CA and a device certificate it signed, with the device's key, in a temporary directory. */
/** Uploads the CA, enabled and with auto registration, through the REST API. */
async function trustCa(request: APIRequestContext, pki: DevicePki): Promise<void> {
  const tenant = await tenantId(request);
  const res = await request.post(`/tenant/tenants/${tenant}/trusted-certificates`, {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    data: { name: pki.caName, certInPemFormat: pki.caPem, status: 'ENABLED', autoRegistrationEnabled: true },
  });
  expect(res.status(), await res.text()).toBe(201);
}

async function setOfflineCheck(request: APIRequestContext, on: boolean): Promise<void> {
  const res = await request.put(OFFLINE, { headers: { Authorization: adminAuth() }, data: { value: on } });
  expect(res.status(), await res.text()).toBe(200);
}

/** Opens the device's details on the devices page; answers its details row. */
async function openDevice(page: Page, deviceId: string) {
  await navigate(page, 'Devices');
  // The search's answer replaces the table: wait for it before opening the details.
  const searched = page.waitForResponse((r) => r.url().includes(`text=${encodeURIComponent(deviceId)}`));
  await page.getByLabel('Search devices').fill(deviceId);
  await searched;
  const button = page.getByRole('button', { name: `Details of ${deviceId}` });
  await expect(button).toHaveCount(1);
  await button.click();
  return page.locator('tr.details-row');
}

/** The certificate revocation card of the settings page. */
async function revocationCard(page: Page) {
  await navigate(page, 'Settings');
  const card = page.getByRole('region', { name: 'Certificate revocation' });
  await expect(card).toBeVisible();
  return card;
}

test('a certificate revoked on the devices page is refused once the offline check is on, and the device shows why', async ({ page, request }) => {
  const pki = makeDevicePki('E2E Revocation CA', 'revoke');
  try {
    await setOfflineCheck(request, false);
    await trustCa(request, pki);
    const first = await deviceToken(pki);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(typeof first.body.accessToken).toBe('string');

    // Devices → the device → its provisioned certificate → Revoke (confirmed).
    await openConsole(page);
    let details = await openDevice(page, pki.deviceId);
    const certificates = details.getByRole('region', { name: 'Provisioned certificates' });
    const line = certificates.getByRole('row').filter({ has: page.getByRole('rowheader', { name: pki.opensslSerial }) });
    await expect(line).toContainText(`CN=${pki.deviceId}`);
    await expect(line).toContainText(`CN=${pki.caName}`);
    await expect(details.getByRole('region', { name: 'Refusals' })).toContainText('No refusals in the last 24 hours.');
    await line.getByRole('button', { name: `Revoke certificate ${pki.opensslSerial}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke certificate?' });
    await expect(dialog).toContainText(pki.opensslSerial);
    await expect(dialog).toContainText(pki.deviceId);
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('status').filter({ hasText: `Certificate ${pki.opensslSerial} revoked.` })).toBeVisible();
    await expect(line.getByText('Revoked', { exact: true })).toBeVisible();
    await expect(line.getByRole('button', { name: /Revoke/ })).toHaveCount(0);
    await expect(certificates).toContainText('The revocation is enforced once the offline check is on');

    // Listed, but not enforced while the offline check is off: the device still gets a token.
    const listed = await request.get(`${CRL}?query=${pki.serialHex}`, { headers: { Authorization: adminAuth() } });
    expect((await listed.json()).crls).toEqual([expect.objectContaining({ serialNumberInHex: pki.serialHex })]);
    expect((await deviceToken(pki)).status).toBe(200);

    // The hint's link leads to the settings; the offline check is turned on there.
    await certificates.getByRole('link', { name: 'Settings → Certificate revocation' }).click();
    await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
    const card = page.getByRole('region', { name: 'Certificate revocation' });
    const offline = card.getByRole('switch', { name: 'Offline check' });
    await expect(offline).not.toBeChecked();
    await expect(card.getByRole('switch', { name: 'Online check', exact: true })).not.toBeChecked();
    await expect(card.getByRole('switch', { name: 'Online check fails open' })).not.toBeChecked();
    await offline.click();
    await expect(page.getByRole('status').filter({ hasText: 'CRL check configuration saved.' })).toBeVisible();
    await expect(offline).toBeChecked();
    const stored = await request.get(OFFLINE, { headers: { Authorization: adminAuth() } });
    expect((await stored.json()).value).toBe('true');
    await expect(card.getByRole('rowheader', { name: pki.serialHex })).toBeVisible();

    // The device's next token request is refused.
    const refused = await deviceToken(pki);
    expect(refused.status, JSON.stringify(refused.body)).toBe(401);
    expect(refused.body.reason).toBe('REVOKED');

    // The devices page shows the refusal, its reason and a way to the chain doctor.
    details = await openDevice(page, pki.deviceId);
    const refusals = details.getByRole('region', { name: 'Refusals' });
    const perReason = refusals.getByRole('list', { name: 'Refusals per reason in the last 24 hours' });
    await expect(perReason).toContainText('Revoked: 1');
    const last = refusals.getByRole('row').filter({ hasText: 'The device certificate was revoked' });
    await expect(last).toHaveCount(1);
    await expect(last).toContainText('Revoked');
    await expect(last).toContainText(pki.serialHex);
    const doctor = last.getByRole('link', { name: 'Chain doctor' });
    await expect(doctor).toHaveAttribute('href', `/chain-doctor?fingerprint=${pki.fingerprint}&serial=${pki.serialHex}`);
    await doctor.click();
    await expect(page).toHaveURL(new RegExp(`/chain-doctor\\?fingerprint=${pki.fingerprint}&serial=${pki.serialHex}$`));
    await expect(page.getByRole('heading', { name: 'Chain doctor', level: 1 })).toBeVisible();
  } finally {
    await setOfflineCheck(request, false);
    fs.rmSync(pki.dir, { recursive: true, force: true });
  }
});

test('refusals show on the device and in its trusted certificate\'s details, linking to the chain doctor', async ({ page, request }) => {
  const pki = makeDevicePki('E2E Revocation CA', 'revoke');
  try {
    await trustCa(request, pki);
    expect((await deviceToken(pki)).status).toBe(200);
    // The CA disabled: the device is refused (a refusal both of the device and of the CA).
    const tenant = await tenantId(request);
    const disabled = await request.put(`/tenant/tenants/${tenant}/trusted-certificates/${pki.caFingerprint}`, {
      headers: { Authorization: adminAuth() }, data: { status: 'DISABLED' },
    });
    expect(disabled.status(), await disabled.text()).toBe(200);
    for (let i = 0; i < 2; i++) {
      const refused = await deviceToken(pki);
      expect(refused.status, JSON.stringify(refused.body)).toBe(401);
      expect(refused.body.reason).toBe('CA_DISABLED');
    }

    await openConsole(page);
    // The trusted certificate's details: the refusals of the devices it anchors.
    await page.getByRole('button', { name: `Details of ${pki.caName}` }).click();
    const ofCa = page.locator('tr.details-row').getByRole('region', { name: 'Refusals' });
    await expect(ofCa).toContainText('Token requests of devices whose chain this certificate anchors');
    const caRow = ofCa.getByRole('row').filter({ hasText: 'CA disabled' });
    await expect(caRow.first()).toContainText(pki.serialHex.toUpperCase());
    await expect(ofCa.getByRole('list', { name: 'Refusals per reason in the last 24 hours' })).toContainText('CA disabled');

    // The device's details: the same refusal, with what to do, and the way to the chain doctor.
    const details = await openDevice(page, pki.deviceId);
    const refusals = details.getByRole('region', { name: 'Refusals' });
    await expect(refusals.getByRole('list', { name: 'Refusals per reason in the last 24 hours' })).toContainText('CA disabled');
    const last = refusals.getByRole('row').filter({ hasText: 'CA disabled' }).first();
    await expect(last).toContainText('Enable the trusted certificate');
    const doctor = last.getByRole('link', { name: 'Chain doctor' });
    await expect(doctor).toHaveAttribute('href', `/chain-doctor?fingerprint=${pki.fingerprint}&serial=${pki.serialHex}`);
    await doctor.click();
    await expect(page).toHaveURL(new RegExp(`/chain-doctor\\?fingerprint=${pki.fingerprint}&serial=${pki.serialHex}$`));
    await expect(page.getByRole('heading', { name: 'Chain doctor', level: 1 })).toBeVisible();
  } finally {
    fs.rmSync(pki.dir, { recursive: true, force: true });
  }
});

test('a CSV file with a wrong row is refused in the browser, naming row and line; a right one is added', async ({ page }) => {
  const puts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'PUT' && r.url().includes(CRL)) puts.push(r.headers()['content-type'] ?? '');
  });
  await openConsole(page);
  const card = await revocationCard(page);
  const file = card.getByLabel('CRL file (CSV)');

  const bad = tempFile('bad.csv', 'SERIALNO,DATE\n1000,\n\nzz99,2023-01-11T16:12:36.288Z\n2000,\n');
  await file.setInputFiles(bad);
  const alert = card.getByRole('alert').filter({ hasText: 'cannot be used; nothing was sent.' });
  await expect(alert).toContainText('Row 2 (line 4: "zz99,2023-01-11T16:12:36.288Z")');
  await expect(alert).toContainText('not hexadecimal');
  await expect(card.getByRole('button', { name: /^Add .* to the list$/ })).toHaveCount(0);

  const [a, b] = [randomBytes(9).toString('hex'), randomBytes(9).toString('hex')];
  const good = tempFile('good.csv', `SERIALNO,DATE\n${a.toUpperCase()},2023-01-11T16:12:36.288Z\n${b},\n`);
  await file.setInputFiles(good);
  const preview = card.getByRole('region', { name: 'File preview' });
  await expect(preview).toContainText('good.csv: 2 entries, all valid.');
  await expect(preview).toContainText(a.replace(/^0+/, ''));
  await expect(preview).toContainText('2023-01-11T16:12:36.288Z');
  expect(puts, 'nothing is sent before the add button').toEqual([]);
  await preview.getByRole('button', { name: 'Add 2 entries to the list' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'CRL saved.' })).toBeVisible();
  expect(puts).toHaveLength(1);
  expect(puts[0]).toMatch(/^multipart\/form-data; boundary=/);

  const search = card.getByLabel('Search serial numbers');
  await search.fill(a.slice(2, 14).toUpperCase());
  const found = card.getByRole('rowheader', { name: a.replace(/^0+/, '') });
  await expect(found).toBeVisible();
  await expect(card.getByText('1 revoked serial number', { exact: true })).toBeVisible();
  await search.fill('xyz');
  await expect(card.getByRole('alert').filter({ hasText: 'is not hexadecimal' })).toBeVisible();
});

test('the CSV template and the CRL download; a serial number is checked as it is typed', async ({ page }) => {
  await openConsole(page);
  const card = await revocationCard(page);

  const template = page.waitForEvent('download');
  await card.getByRole('link', { name: 'Download template' }).click();
  const saved = await template;
  expect(saved.suggestedFilename()).toBe('crl-template.csv');
  const text = fs.readFileSync(await saved.path(), 'utf8');
  expect(text).toMatch(/^SERIALNO,DATE\n1000,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/);

  // One serial, typed: refused live, then added after the confirmation.
  const serial = card.getByLabel('Serial number (hex)');
  const add = card.getByRole('button', { name: 'Add to the list' });
  await serial.fill('12g4');
  await expect(card.getByRole('alert').filter({ hasText: '"g" is not a hex digit' })).toBeVisible();
  await expect(add).toBeDisabled();
  const hex = randomBytes(8).toString('hex').replace(/^0+/, '');
  await serial.fill(hex.toUpperCase().match(/.{1,2}/g)!.join(':'));
  await expect(card.getByText(`= ${hex}`)).toBeVisible();
  await card.getByLabel('Revocation date (optional)').fill('11.01.2023');
  await expect(card.getByRole('alert').filter({ hasText: 'Unsupported date time format' })).toBeVisible();
  await expect(add).toBeDisabled();
  await card.getByLabel('Revocation date (optional)').fill('2023-01-11T16:12:36.288Z');
  await add.click();
  const dialog = page.getByRole('dialog', { name: 'Revoke this serial number?' });
  await dialog.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Serial number ${hex} revoked.` })).toBeVisible();
  await card.getByLabel('Search serial numbers').fill(hex);
  await expect(card.getByRole('row').filter({ hasText: hex })).toContainText('2023-01-11 16:12 UTC');

  // The signed CRL, as OpenSSL reads it.
  const crl = page.waitForEvent('download');
  await card.getByRole('button', { name: 'Download CRL' }).click();
  const der = await crl;
  expect(der.suggestedFilename()).toBe('anchorage.crl');
  const dump = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text', '-in', await der.path()], { encoding: 'utf8' });
  expect(dump.toLowerCase().replace(/:/g, '')).toContain(hex.toLowerCase());
});

test('a reader sees the revocation settings and a device\'s certificates, and can change nothing', async ({ page, request }) => {
  const pki = makeDevicePki('E2E Revocation CA', 'revoke');
  try {
    await trustCa(request, pki);
    expect((await deviceToken(pki)).status).toBe(200);
    const tenant = await tenantId(request);
    const name = `crl-reader-${unique()}`;
    const secret = 'reader-password-1';
    const created = await request.post(`/user/${tenant}/users`, {
      headers: { Authorization: adminAuth() }, data: { userName: name, password: secret, role: 'reader' },
    });
    expect(created.status(), await created.text()).toBe(201);

    await page.goto('/');
    await logInAs(page, name, secret);
    const card = await revocationCard(page);
    const readOnly = 'Read-only: your role is reader';
    await expect(card.getByRole('switch', { name: 'Offline check' })).toBeDisabled();
    await expect(card.getByRole('switch', { name: 'Online check', exact: true })).toBeDisabled();
    await expect(card.getByLabel('Serial number (hex)')).toHaveAttribute('readonly', '');
    await expect(card.getByRole('button', { name: 'Add to the list' })).toHaveAttribute('title', readOnly);
    await expect(card.getByLabel('CRL file (CSV)')).toBeDisabled();
    // Reading is open to readers: the list, the template and the CRL.
    await expect(card.getByRole('link', { name: 'Download template' })).toBeVisible();
    await expect(card.getByRole('button', { name: 'Download CRL' })).toBeEnabled();

    const details = await openDevice(page, pki.deviceId);
    const revoke = details.getByRole('button', { name: `Revoke certificate ${pki.opensslSerial}` });
    await expect(revoke).toBeDisabled();
    await expect(revoke).toHaveAttribute('title', readOnly);
    await expect(details.getByRole('region', { name: 'Refusals' })).toBeVisible();
  } finally {
    fs.rmSync(pki.dir, { recursive: true, force: true });
  }
});
