// The tenant's certificate authority and EST enrollment, end to end, on an anchorage of this
// file's own (started with `--tenant-ca-days 400`, so that its CA is renewable at once: less than
// 730 days left). The admin creates the CA from the "Add trusted certificate" dialog, registers a
// device with a one-time password made in the browser, reads the password and the command the
// dialog shows once, and the device tool enrolls with them; the request then leaves "Waiting for
// enrollment", the device shows its issued certificate, and the CA is renewed from its row's
// details with its new expiry shown.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page, expect, test } from '@playwright/test';
import { DEVICE_BIN, Server, freePort } from './servers';
import { USER, basic, logInAs, navigate, unique } from './support';

const PASSWORD = 'e2e-est-admin-password';
const REQUESTS = '/devicecontrol/newDeviceRequests';

let server: Server;

test.beforeAll(async () => {
  if (!fs.existsSync(DEVICE_BIN)) {
    throw new Error(`no device tool at ${DEVICE_BIN}: run \`cargo build -p anchorage-device\` or set ANCHORAGE_DEVICE_BIN`);
  }
  server = await Server.create({
    name: 'the EST server',
    args: ['--tenant-ca-days', '400'],
    env: { ANCHORAGE_ADMIN_PASSWORD: PASSWORD, ANCHORAGE_DEVICE_LISTEN: `127.0.0.1:${await freePort()}` },
    readyPath: '/tenant/currentTenant',
  });
  await server.start();
});

test.afterAll(async () => {
  await server?.dispose();
});

/** Waits for the answer to the console's next `GET` of the new device requests. */
function requestsLoaded(page: Page) {
  return page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === REQUESTS);
}

/** The "YYYY-MM-DD" of a platform timestamp, as the console shows dates (UTC). */
function day(timestamp: string): string {
  return new Date(timestamp).toISOString().slice(0, 10);
}

test('a CA made in the console issues the certificate of a device registered with a one-time password, and is renewed', async ({ page }) => {
  test.setTimeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-est-'));
  try {
    await page.goto(`${server.baseURL}/`);
    await logInAs(page, USER, PASSWORD);

    // No CA yet: the "Add trusted certificate" dialog offers to create one.
    const addButton = page.getByRole('button', { name: 'Add trusted certificate' }).first();
    await addButton.click();
    const addDialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
    const offer = addDialog.getByTestId('ca-offer');
    await expect(offer).toContainText("let anchorage be this tenant's certificate authority");
    const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/certificate-authority'));
    await offer.getByTestId('ca-create').click();
    const createdAnswer = await created;
    expect(createdAnswer.status(), await createdAnswer.text()).toBe(201);
    const ca = await createdAnswer.json();
    expect(ca).toMatchObject({ tenantCertificateAuthority: true, status: 'ENABLED', autoRegistrationEnabled: true });
    await expect(addDialog).toBeHidden();
    await expect(page.getByRole('status').filter({ hasText: 'CA certificate created.' })).toBeVisible();

    // The CA is a row of the list, marked as the tenant's; it needs no proof of possession.
    const caRow = page.getByRole('row').filter({ hasText: ca.name }).first();
    await expect(caRow).toContainText('Tenant CA');
    await expect(caRow.locator('td[data-label="Proof of possession"]')).toHaveText('N/A');
    // Now that there is one, the dialog no longer offers it.
    await addButton.click();
    await expect(addDialog.getByLabel('Certificate files')).toBeVisible();
    await expect(addDialog.getByTestId('ca-offer')).toHaveCount(0);
    await addDialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(addDialog).toBeHidden();

    // Its details hold its card: dates, the PEM, and "Renew" (400 days left, less than 730).
    await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
    const details = page.locator('tr.details-row');
    await expect(details).toContainText(ca.subject);
    await expect(details).toContainText(ca.algorithmName);
    const card = details.getByTestId('ca-card');
    await expect(card).toHaveAttribute('data-fingerprint', ca.fingerprint);
    await expect(card.getByTestId('ca-valid-until')).toContainText(day(ca.notAfter));
    await expect(card.getByTestId('ca-renew-hint')).toContainText('less than 24 months');
    await expect(card.getByTestId('ca-renew')).toBeEnabled();
    await expect(card.getByTestId('ca-rollover')).toBeEnabled();
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByTestId('ca-download').click()]);
    const pemPath = path.join(dir, 'ca.pem');
    await download.saveAs(pemPath);
    const pem = fs.readFileSync(pemPath, 'utf8');
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n'), pem).toBe(true);
    const caFingerprint = execFileSync('openssl', ['x509', '-in', pemPath, '-noout', '-fingerprint', '-sha1'], { encoding: 'utf8' })
      .trim().split('=')[1].replace(/:/g, '').toLowerCase();
    expect(caFingerprint).toBe(ca.fingerprint);

    // Register a device: the id is checked as it is typed; the password and commands are shown once.
    await navigate(page, 'Devices');
    await page.getByTestId('register-device').click();
    const dialog = page.getByRole('dialog', { name: 'Register device' });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId('register-no-ca')).toHaveCount(0);
    await dialog.getByTestId('register-id').fill('has space');
    await expect(dialog.getByTestId('register-id-error')).toContainText('whitespace');
    await expect(dialog.getByTestId('register-submit')).toBeDisabled();
    const id = `est-${unique()}`;
    await dialog.getByTestId('register-id').fill(id);
    await expect(dialog.getByTestId('register-id-error')).toHaveText('');
    await dialog.getByTestId('register-type').fill('c8y_EstTest');
    await dialog.getByTestId('register-name').fill(`EST device ${id}`);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === REQUESTS);
    const listed = requestsLoaded(page);
    await dialog.getByTestId('register-submit').click();
    const postedAnswer = await posted;
    expect(postedAnswer.status(), await postedAnswer.text()).toBe(201);
    expect(await postedAnswer.json()).toMatchObject({ id, status: 'WAITING_FOR_CONNECTION', enrollmentTokenSet: true });
    // What was sent is what is shown: a generated password of 32 characters.
    const sent = postedAnswer.request().postDataJSON();
    expect(sent).toMatchObject({ id, type: 'c8y_EstTest', name: `EST device ${id}` });
    const done = page.getByRole('dialog', { name: `Device “${id}” registered` });
    const otp = await done.getByTestId('enrollment-otp').inputValue();
    expect(otp).toMatch(/^[a-km-np-z2-9]{32}$/);
    expect(sent.enrollmentToken).toBe(otp);
    const command = await done.getByTestId('enroll-command').inputValue();
    // The command (`anchorage_common::est::enroll_command`): the device tool, this server, the id, the password.
    expect(command).toContain('anchorage-device enroll');
    expect(command).toContain(`--url ${server.baseURL}`);
    expect(command).toContain(`--id ${id}`);
    expect(command).toContain(otp);
    const openssl = await done.getByTestId('openssl-commands').inputValue();
    expect(openssl).toContain(`-u ${id}:${otp}`);
    expect(openssl).toContain(`${server.baseURL}/.well-known/est/simpleenroll`);
    await done.getByTestId('register-close').click();
    await expect(done).toBeHidden();

    // The device waits for enrollment.
    expect((await listed).status()).toBe(200);
    const waiting = page.getByTestId('waiting-enrollment');
    const request = waiting.locator(`tr[data-device-id="${id}"]`);
    await expect(request).toContainText('c8y_EstTest');
    await expect(request).toContainText('Waiting for the device');

    // A request that is not wanted any more is deleted, after confirmation.
    const spare = `est-spare-${unique()}`;
    const auth = { Authorization: basic(USER, PASSWORD), Accept: 'application/json' };
    const made = await fetch(`${server.baseURL}${REQUESTS}`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: spare, enrollmentToken: 'spare-one-time-password' }),
    });
    expect(made.status, await made.text()).toBe(201);
    const refreshed = requestsLoaded(page);
    await waiting.getByTestId('waiting-refresh').click();
    expect((await refreshed).status()).toBe(200);
    const spareRow = waiting.locator(`tr[data-device-id="${spare}"]`);
    await spareRow.getByTestId('waiting-delete').click();
    const confirmDelete = page.getByRole('dialog', { name: 'Delete enrollment?' });
    await expect(confirmDelete).toContainText(spare);
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`${REQUESTS}/${spare}`));
    await confirmDelete.getByRole('button', { name: 'Delete', exact: true }).click();
    expect((await deleted).status()).toBe(204);
    await expect(confirmDelete).toBeHidden();
    await expect(spareRow).toHaveCount(0);
    await expect(request).toBeVisible();
    expect((await fetch(`${server.baseURL}${REQUESTS}/${spare}`, { headers: auth })).status).toBe(404);

    // The device enrolls with the password and the command line's arguments.
    const keyPath = path.join(dir, 'device.key');
    const certPath = path.join(dir, 'device.crt');
    execFileSync(DEVICE_BIN, ['enroll', '--url', server.baseURL, '--id', id, '--otp', otp, '--key', keyPath, '--cert', certPath], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const subject = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-subject'], { encoding: 'utf8' });
    expect(subject).toContain(id);
    // As openssl prints it, which is how the console shows serials.
    const serialHex = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-serial'], { encoding: 'utf8' })
      .trim().split('=')[1];

    // After a reload the request is gone (its password is used) and the device is listed.
    const reloaded = requestsLoaded(page);
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Devices', level: 1 })).toBeVisible();
    expect((await reloaded).status()).toBe(200);
    await expect(page.locator(`[data-testid="waiting-request"][data-device-id="${id}"]`)).toHaveCount(0);
    const searched = page.waitForResponse((r) => r.url().includes(`text=${encodeURIComponent(id)}`));
    await page.getByLabel('Search devices').fill(id);
    await searched;
    await page.getByRole('button', { name: `Details of ${id}` }).click();
    const issued = page.locator('tr.details-row').getByTestId('issued-certificates');
    const line = issued.getByTestId('issued-certificate');
    await expect(line).toHaveCount(1);
    await expect(line).toContainText(serialHex);
    await expect(line).toContainText('Enrollment (one-time password)');

    // An issued certificate is revoked like a provisioned one.
    await line.getByRole('button', { name: /^Revoke certificate / }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke certificate?' });
    await expect(revoke).toContainText(id);
    const revoked = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes('/settings/crl'));
    await revoke.getByRole('button', { name: 'Revoke', exact: true }).click();
    expect((await revoked).status()).toBeLessThan(300);
    await expect(revoke).toBeHidden();
    await expect(line.getByText('Revoked', { exact: true })).toBeVisible();

    // Renew the CA in the console: same subject, new dates and fingerprint.
    await navigate(page, 'Trusted certificates');
    await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
    const renewButton = page.locator('tr.details-row').getByTestId('ca-renew');
    await expect(renewButton).toBeEnabled();
    const renewed = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/certificate-authority/renew'));
    await renewButton.click();
    const renewedAnswer = await renewed;
    expect(renewedAnswer.status(), await renewedAnswer.text()).toBe(200);
    const renewedCa = await renewedAnswer.json();
    expect(renewedCa.subject).toBe(ca.subject);
    expect(renewedCa.fingerprint).not.toBe(ca.fingerprint);
    expect(Date.parse(renewedCa.notAfter)).toBeGreaterThanOrEqual(Date.parse(ca.notAfter));
    await expect(page.getByRole('status').filter({ hasText: 'CA certificate renewed: valid until' })).toBeVisible();
    // The list shows the renewed CA (a new fingerprint: a row of its own, the old one gone).
    await expect(page.locator(`[data-testid="ca-card"][data-fingerprint="${ca.fingerprint}"]`)).toHaveCount(0);
    const renewedRow = page.getByRole('row').filter({ hasText: renewedCa.name });
    await expect(renewedRow).toHaveCount(1);
    await expect(renewedRow.locator('td[data-label="Expiration date"]')).toContainText(day(renewedCa.notAfter));
    await page.getByRole('button', { name: `Details of ${renewedCa.name}` }).click();
    const renewedCard = page.locator('tr.details-row').getByTestId('ca-card');
    await expect(renewedCard).toHaveAttribute('data-fingerprint', renewedCa.fingerprint);
    await expect(renewedCard.getByTestId('ca-valid-until')).toContainText(day(renewedCa.notAfter));
    // Renewable again only once less than 730 days are left.
    const daysLeft = (Date.parse(renewedCa.notAfter) - Date.now()) / 86_400_000;
    if (daysLeft >= 730) {
      await expect(renewedCard.getByTestId('ca-renew')).toBeDisabled();
      await expect(renewedCard.getByTestId('ca-renew-hint')).toContainText('can be renewed from');
    } else {
      await expect(renewedCard.getByTestId('ca-renew')).toBeEnabled();
    }

    // Deleting the CA is confirmed with the platform's words (cancelled here).
    await page.getByRole('button', { name: `Delete ${renewedCa.name}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete CA certificate?' });
    await expect(confirm).toContainText('You are about to delete the Certificate Authority (CA) certificate for this tenant.');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toBeHidden();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the platform console's enrollment link opens Register device, filled in, and registers with its password", async ({ page, request }) => {
  await page.goto(`${server.baseURL}/`);
  await logInAs(page, USER, PASSWORD);
  const id = `est-link-${unique()}`;
  const otp = 'link-one-time-password-01';
  // As go-c8y prints it (platform-api §6.4).
  await page.goto(`${server.baseURL}/apps/devicemanagement/index.html#/deviceregistration?externalId=${id}&one-time-password=${otp}`);
  const dialog = page.getByRole('dialog', { name: 'Register device' });
  await expect(dialog.getByTestId('register-id')).toHaveValue(id);
  // The password does not stay in the address bar.
  await expect(page).toHaveURL(`${server.baseURL}/devices`);
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === REQUESTS);
  await dialog.getByTestId('register-submit').click();
  expect((await posted).request().postDataJSON()).toMatchObject({ id, enrollmentToken: otp });
  const done = page.getByRole('dialog', { name: `Device “${id}” registered` });
  await expect(done.getByTestId('enrollment-otp')).toHaveValue(otp);
  const stored = await request.get(`${server.baseURL}${REQUESTS}/${id}`, { headers: { Authorization: basic(USER, PASSWORD) } });
  expect(stored.status()).toBe(200);
});
