// The audit page: the actions just taken, newest first, with who did them and from where;
// filtered by type, user and days, a page at a time; types named for people; the filters in
// force shown with "Clear filters"; a page change back at the top; the operator's own logins
// hidden on request; a refused device token naming the certificate with links to the device and
// the CA; compact rows on a phone.
import { expect, test } from '@playwright/test';
import {
  USER, adminAuth, deviceToken, expectAccessible, makeCertificate, makeDevicePki, navigate, openConsole, tenantId, unique,
  uploadViaApi,
} from './support';

const OPTION = '/tenant/options/oauth.internal/device-token.lifespan.seconds';

test('the audit page shows the actions just taken, filtered by type, user and day, a page at a time', async ({ page, request }) => {
  const headers = { Authorization: adminAuth() };
  const ca = makeCertificate('E2E Audit CA', { ca: true });
  await uploadViaApi(request, ca);
  const tenant = await tenantId(request);
  const name = `audited-${unique()}`;
  const made = await request.post(`/user/${tenant}/users`, { headers, data: { userName: name, password: 'audited-password', role: 'reader' } });
  expect(made.status()).toBe(201);
  // More option changes than one page holds.
  for (let i = 0; i < 30; i++) {
    const res = await request.put(OPTION, { headers, data: { value: String(3600 + (i % 2) + 1) } });
    expect(res.status()).toBe(200);
  }
  expect((await request.delete(OPTION, { headers })).status()).toBe(204);

  await openConsole(page);
  await navigate(page, 'Audit');
  const rows = page.locator('table.audit tbody tr');
  // Newest first: this very login.
  await expect(rows.first()).toContainText('Login');
  await expect(rows.first()).toContainText(USER);

  const type = page.getByLabel('Type', { exact: true });
  await type.selectOption('Tenant');
  await expect(rows.first()).toContainText('Trusted certificate added');
  await expect(rows.first()).toContainText(ca.fingerprint);
  await expect(rows.first()).toContainText('127.0.0.1');
  await expect(rows.first()).toContainText('information');

  await type.selectOption('User');
  await expect(rows.first()).toContainText('User created');
  await expect(rows.first()).toContainText(`User '${name}' created with role reader.`);

  await type.selectOption('Option');
  await expect(rows).toHaveCount(25);
  await expect(page.getByText(/^Page 1 of \d+$/)).toBeVisible();
  // A page change starts at the top of the page.
  await page.getByRole('button', { name: 'Next' }).scrollIntoViewIfNeeded();
  expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/^Page 2 of \d+$/)).toBeVisible();
  await expect.poll(() => page.evaluate(() => window.scrollY)).toBe(0);
  await page.getByRole('button', { name: 'Previous' }).click();
  await expect(page.getByText(/^Page 1 of \d+$/)).toBeVisible();

  const user = page.getByLabel('User', { exact: true });
  await user.fill(`nobody-${unique()}`);
  await expect(page.getByText('No audit records to display.')).toBeVisible();
  await user.fill(USER);
  await expect(rows).toHaveCount(25);

  await page.getByLabel('From (UTC)', { exact: true }).fill('2000-01-01');
  await page.getByLabel('To (UTC)', { exact: true }).fill('2000-01-02');
  await expect(page.getByText('No audit records to display.')).toBeVisible();
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From (UTC)', { exact: true }).fill(today);
  await page.getByLabel('To (UTC)', { exact: true }).fill(today);
  await expect(rows).toHaveCount(25);

  // The filters in force are listed, and cleared at once.
  const inForce = page.getByRole('status').filter({ hasText: 'Filtered by:' });
  await expect(inForce).toContainText('Type: Tenant option');
  await expect(inForce).toContainText(`User: ${USER}`);
  await expect(inForce).toContainText(`From: ${today} (UTC)`);
  await expectAccessible(page, 'the audit page with filters');
  await inForce.getByRole('button', { name: 'Clear filters' }).click();
  await expect(inForce).toBeHidden();
  await expect(type).toHaveValue('');
  await expect(user).toHaveValue('');
  await expect(page.getByLabel('From (UTC)', { exact: true })).toHaveValue('');
  await expect(rows.first()).toContainText('Login');
});

test('audit types have names for people, and the operator can hide their own logins', async ({ page, request }) => {
  const tenant = await tenantId(request);
  const name = `other-${unique()}`;
  const made = await request.post(`/user/${tenant}/users`, {
    headers: { Authorization: adminAuth() }, data: { userName: name, password: 'other-password', role: 'reader' },
  });
  expect(made.status()).toBe(201);
  await openConsole(page);
  await navigate(page, 'Audit');
  const type = page.getByLabel('Type', { exact: true });
  await expect(type.locator('option[value="UserAuthentication"]')).toHaveText('Login');
  await expect(type.locator('option[value="Tenant"]')).toHaveText('Trusted certificate');
  await expect(type.locator('option[value="DeviceRegistration"]')).toHaveText('Device registration');
  await type.selectOption('UserAuthentication');
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first().locator('td.type')).toHaveText('Login');
  await expect(rows.first()).toContainText(USER);

  await page.getByLabel('Hide my logins').check();
  await expect(page.getByRole('status').filter({ hasText: 'Filtered by:' })).toContainText('Your logins hidden');
  // Other users' logins stay; none of the operator's.
  const login = await request.post(`/tenant/oauth?tenant_id=${tenant}`, {
    form: { grant_type: 'PASSWORD', username: name, password: 'other-password' },
  });
  expect(login.status()).toBe(200);
  await page.getByRole('button', { name: 'Reload' }).click();
  await expect(rows.filter({ hasText: name }).first()).toBeVisible();
  await expect(page.locator('table.audit tbody td.user').filter({ hasText: new RegExp(`^${USER}$`) })).toHaveCount(0);
  await expectAccessible(page, 'the audit page with the own logins hidden');
});

test('a refused device token names the certificate and links to the device and the CA, compact on a phone', async ({ page, request }) => {
  // A leading zero nibble in the serial: openssl prints it (whole bytes), a trimmed form would not.
  const pki = makeDevicePki('E2E Audit Refusal CA', 'audit', 0x0a);
  const tenant = await tenantId(request);
  // Trusted but disabled: the refusal knows the device and the CA.
  const res = await request.post(`/tenant/tenants/${tenant}/trusted-certificates`, {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    data: { name: pki.caName, certInPemFormat: pki.caPem, status: 'DISABLED', autoRegistrationEnabled: true },
  });
  expect(res.status(), await res.text()).toBe(201);
  expect((await deviceToken(pki)).status).toBeGreaterThanOrEqual(400);

  await openConsole(page);
  await page.goto(`/audit?device=${encodeURIComponent(pki.deviceId)}`);
  await expect(page.getByRole('heading', { name: 'Audit', level: 1 })).toBeVisible();
  await expect(page.getByLabel('User', { exact: true })).toHaveValue(`device_${pki.deviceId}`);
  const record = page.locator('table.audit tbody tr').filter({ hasText: 'Device token refused' }).first();
  await expect(record).toContainText('CA disabled');
  await expect(record).toContainText(`CN=${pki.deviceId}`);
  await expect(record).toContainText(`CN=${pki.caName}`);
  expect(pki.opensslSerial).toMatch(/^0A[0-9A-F]+$/);
  await expect(record).toContainText(pki.opensslSerial);
  await expect(record).toContainText(pki.fingerprint);
  const device = record.getByRole('link', { name: `Device ${pki.deviceId}` });
  await expect(device).toHaveAttribute('href', `/devices?q=${encodeURIComponent(pki.deviceId)}`);
  const ca = record.getByRole('link', { name: `Trusted certificate ${pki.caFingerprint}` });
  await expect(ca).toHaveAttribute('href', `/trusted-certificates?q=${pki.caFingerprint}`);
  await expectAccessible(page, 'a refused device token on the audit page');

  // On a phone: one compact card per record, no column labels, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(record).toBeVisible();
  const box = await record.boundingBox();
  expect(box?.width ?? 1000).toBeLessThanOrEqual(390);
  const label = await record.locator('td.time').evaluate((el) => getComputedStyle(el, '::before').content);
  expect(['none', 'normal', '']).toContain(label);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expectAccessible(page, 'the audit page on a phone');
});
