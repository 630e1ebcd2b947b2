// The devices page against the real server: the total count and a search made on the server
// (id, name, serial as openssl prints it), the CA that authenticated each device linked to the
// trusted certificates page, the link to a device's audit records and `?q=` in the address;
// disabling a device (its token request is then refused over mutual TLS), enabling it again,
// and deleting it (confirmed, naming it; it is then not registered any more). axe-core on every
// state, at 1366×900 and on a 390×844 phone. Certificates are made with openssl at test time.
import { APIRequestContext, Page, expect, test } from '@playwright/test';
import {
  DevicePki, adminAuth, deviceToken, expectAccessible, makeDevicePki, navigate, openConsole, tenantId, unique,
} from './support';

/** A CA and a device certificate it signed, with the device's key, in a temporary directory. */
async function trustCa(request: APIRequestContext, pki: DevicePki, autoRegistration: boolean): Promise<void> {
  const tenant = await tenantId(request);
  const res = await request.post(`/tenant/tenants/${tenant}/trusted-certificates`, {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    data: { name: pki.caName, certInPemFormat: pki.caPem, status: 'ENABLED', autoRegistrationEnabled: autoRegistration },
  });
  expect(res.status(), await res.text()).toBe(201);
}

async function bulkRegister(request: APIRequestContext, lines: string[]): Promise<void> {
  const csv = ['ID;AUTH_TYPE;CREDENTIALS;NAME', ...lines].join('\n');
  const res = await request.post('/devicecontrol/bulkNewDeviceRequests', {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    multipart: { file: { name: 'devices.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) } },
  });
  expect(res.status(), await res.text()).toBe(201);
}

/** Types a search and waits for the server's answer to it. */
async function search(page: Page, text: string): Promise<void> {
  const searched = page.waitForResponse((r) => r.url().includes(`text=${encodeURIComponent(text)}`));
  await page.getByLabel('Search devices').fill(text);
  await searched;
}

const rows = (page: Page) => page.locator('table.devices tbody tr:not(.details-row)');

test('the devices page counts and searches on the server, names the CA and links to its audit records', async ({ page, request }) => {
  const pki = makeDevicePki('E2E Devices CA', 'counted');
  await trustCa(request, pki, true);
  expect((await deviceToken(pki)).status).toBe(200);
  const tag = `tagged-${unique()}`;
  await bulkRegister(request, [`${tag}-a;CERTIFICATES;;Hall ${tag}`, `${tag}-b;CERTIFICATES;;Hall ${tag}`]);
  const all = await request.get('/inventory/managedObjects?fragmentType=c8y_IsDevice&withTotalElements=true&pageSize=1', {
    headers: { Authorization: adminAuth() },
  });
  const total: number = (await all.json()).statistics.totalElements;

  await openConsole(page);
  await navigate(page, 'Devices');
  await expect(page.getByTestId('device-total')).toHaveText(`${total.toLocaleString('en-US')} devices`);
  await expectAccessible(page, 'devices: the list');

  // The search is the server's: its count follows.
  await search(page, `Hall ${tag}`);
  await expect(rows(page)).toHaveCount(2);
  await expect(page.getByTestId('device-total')).toHaveText(`2 devices match “Hall ${tag}”`);
  await expect(rows(page).first()).toContainText('Never got a token');

  // By serial as openssl prints it: the device, its status, its CA, its last token in UTC.
  await search(page, pki.opensslSerial);
  await expect(rows(page)).toHaveCount(1);
  const row = rows(page).first();
  await expect(row.getByRole('rowheader')).toHaveText(pki.deviceId);
  await expect(row).toContainText('Enabled');
  await expect(row).toContainText(pki.opensslSerial);
  await expect(row.locator('[data-label="Last token"]')).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  const ca = row.getByRole('link', { name: `Trusted certificate ${pki.caName}` });
  await expect(ca).toHaveAttribute('href', `/trusted-certificates?q=${pki.caFingerprint}`);
  const audit = row.getByRole('link', { name: `Audit records of ${pki.deviceId}` });
  await expect(audit).toHaveAttribute('href', `/audit?device=${encodeURIComponent(pki.deviceId)}`);
  await expectAccessible(page, 'devices: searched by serial');

  await ca.click();
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();
  expect(new URL(page.url()).search).toBe(`?q=${pki.caFingerprint}`);

  // Linked from elsewhere by device id: the search is filled in and sent.
  const linked = page.waitForResponse((r) => r.url().includes(`text=${encodeURIComponent(pki.deviceId)}`));
  await page.goto(`/devices?q=${encodeURIComponent(pki.deviceId)}`);
  await linked;
  await expect(page.getByLabel('Search devices')).toHaveValue(pki.deviceId);
  await expect(rows(page)).toHaveCount(1);
  await rows(page).first().getByRole('link', { name: `Audit records of ${pki.deviceId}` }).click();
  await expect(page.getByRole('heading', { name: 'Audit', level: 1 })).toBeVisible();
  expect(new URL(page.url()).search).toBe(`?device=${encodeURIComponent(pki.deviceId)}`);
});

test('a disabled device is refused its token until enabled; a deleted one is not registered any more', async ({ page, request }) => {
  const pki = makeDevicePki('E2E Devices CA', 'switched');
  // Auto-registration off: once deleted, the device cannot come back by itself.
  await trustCa(request, pki, false);
  await bulkRegister(request, [`${pki.deviceId};CERTIFICATES;;Pump ${pki.deviceId}`]);
  expect((await deviceToken(pki)).status).toBe(200);

  await openConsole(page);
  await navigate(page, 'Devices');
  await search(page, pki.deviceId);
  await expect(rows(page)).toHaveCount(1);

  await page.getByRole('button', { name: `Disable ${pki.deviceId}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Disable device?' });
  await expect(dialog).toContainText(`Device “${pki.deviceId}” will be refused tokens`);
  await expectAccessible(page, 'devices: disable dialog');
  await dialog.getByRole('button', { name: 'Disable' }).click();
  const toast = page.locator('.toast').filter({ hasText: `Device ${pki.deviceId} disabled.` });
  await expect(page.getByRole('status').filter({ has: toast })).toBeVisible();
  // Its Dismiss button removes it (at once, before its 6 s timer could).
  await toast.getByRole('button', { name: 'Dismiss' }).click();
  await expect(toast).toHaveCount(0);
  await expect(rows(page).first()).toContainText('Disabled');
  const refused = await deviceToken(pki);
  expect(refused.status).toBe(401);
  expect(String(refused.body.message)).toContain('is disabled');
  expect(refused.body.reason).toBe('DEVICE_DISABLED');
  await expectAccessible(page, 'devices: a disabled device');

  await page.getByRole('button', { name: `Enable ${pki.deviceId}` }).click();
  await expect(page.getByRole('button', { name: `Disable ${pki.deviceId}` })).toBeVisible();
  expect((await deviceToken(pki)).status).toBe(200);

  await page.getByRole('button', { name: `Delete ${pki.deviceId}` }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete device?' });
  await expect(confirm).toContainText(`Device “${pki.deviceId}” (Pump ${pki.deviceId}) will be deleted`);
  await expectAccessible(page, 'devices: delete dialog');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText(`No device matches “${pki.deviceId}”.`)).toBeVisible();
  const lookup = await request.get(`/identity/externalIds/c8y_Serial/${pki.deviceId}`, { headers: { Authorization: adminAuth() } });
  expect(lookup.status()).toBe(404);
  const gone = await deviceToken(pki);
  expect(gone.status).toBe(422);
  expect(String(gone.body.message)).toContain('not registered');
  await expectAccessible(page, 'devices: after a delete');
});

test('on a phone the devices page keeps its actions reachable and accessible', async ({ page, request }) => {
  const pki = makeDevicePki('E2E Devices CA', 'phone');
  await trustCa(request, pki, true);
  expect((await deviceToken(pki)).status).toBe(200);
  await page.setViewportSize({ width: 390, height: 844 });
  await openConsole(page);
  await page.goto(`/devices?q=${encodeURIComponent(pki.deviceId)}`);
  await expect(rows(page)).toHaveCount(1);
  await expect(page.getByRole('button', { name: `Disable ${pki.deviceId}` })).toBeVisible();
  await expect(page.getByRole('link', { name: `Trusted certificate ${pki.caName}` })).toBeVisible();
  await expectAccessible(page, 'devices: 390×844');
  await page.getByRole('button', { name: `Delete ${pki.deviceId}` }).click();
  await expect(page.getByRole('dialog', { name: 'Delete device?' })).toBeVisible();
  await expectAccessible(page, 'devices: delete dialog at 390×844');
});
