// Screenshots of the console for the README and docs/ (not a test): `npm run screenshots` in
// end2end/ (with ANCHORAGE_BIN and the built console, as for the tests) writes
// docs/screenshots/*.png. The data is made here: CAs with different expiries, devices from a
// bulk CSV, a refused token in the audit log.
import * as path from 'node:path';
import { Page, expect, test } from '@playwright/test';
import { adminAuth, makeCertificate, navigate, openConsole, tempFile, tenantId } from '../tests/support';

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

test('console screenshots', async ({ page, request }) => {
  const tenant = await tenantId(request);
  const headers = { Authorization: adminAuth(), Accept: 'application/json' };
  for (const [label, days] of [['Factory root CA', 1800], ['Field devices CA', 60], ['Legacy gateway CA', 12], ['Lab CA', 400]] as const) {
    const ca = makeCertificate(label, { ca: true, days });
    const res = await request.post(`/tenant/tenants/${tenant}/trusted-certificates`, {
      headers,
      data: { name: label, certInPemFormat: ca.pem, status: 'ENABLED', autoRegistrationEnabled: true },
    });
    expect(res.status(), await res.text()).toBe(201);
  }
  const csv = ['ID;NAME;TYPE;AUTH_TYPE;CREDENTIALS']
    .concat(Array.from({ length: 12 }, (_, i) => `sensor-${String(i + 1).padStart(3, '0')};Sensor ${i + 1};c8y_Sensor;CERTIFICATES;`))
    .join('\n');
  const upload = await request.post('/devicecontrol/bulkNewDeviceRequests', {
    headers: { Authorization: adminAuth() },
    multipart: { file: { name: 'devices.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) } },
  });
  expect(upload.status(), await upload.text()).toBe(201);

  await page.setViewportSize({ width: 1366, height: 900 });
  await openConsole(page);
  await expect(page.getByRole('row').filter({ hasText: 'Legacy gateway CA' }).first()).toBeVisible();
  await page.locator('details.timeline summary').click();
  await expect(page.locator('details.timeline svg').first()).toBeVisible();
  await shot(page, 'trusted-certificates');

  await navigate(page, 'Devices');
  await expect(page.getByText('sensor-001').first()).toBeVisible();
  await shot(page, 'devices');

  await navigate(page, 'Alarms');
  await expect(page.getByText('Legacy gateway CA').first()).toBeVisible();
  await shot(page, 'alarms');

  await navigate(page, 'Audit');
  await shot(page, 'audit');

  await navigate(page, 'Bulk registration');
  await page.locator('input[type=file]').first().setInputFiles(tempFile('devices.csv', `${csv}\nbad id!;x;y;CERTIFICATES;secret\n`));
  await expect(page.getByText('sensor-001').first()).toBeVisible();
  await shot(page, 'bulk-registration');

  await page.setViewportSize({ width: 390, height: 844 });
  await navigate(page, 'Trusted certificates');
  await shot(page, 'phone-trusted-certificates');
});
