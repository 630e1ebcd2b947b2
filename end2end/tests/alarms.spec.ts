// The alarms page: a CA near its expiry raises an expiry alarm, shown with its severity, the
// certificate, a link to it and when it expires; an admin acknowledges and clears it.
import { expect, test } from '@playwright/test';
import { adminAuth, expectAccessible, makeCertificate, navigate, openConsole, uploadViaApi } from './support';

test('a CA that expires within days shows as a MAJOR alarm, which an admin acknowledges and clears', async ({ page, request }) => {
  const ca = makeCertificate('E2E Alarm CA', { ca: true, days: 5 });
  await uploadViaApi(request, ca, 'ENABLED');
  // The platform API shows it too (and raises it now, so it is among the newest).
  const listed = await request.get(`/alarm/alarms?pageSize=2000&resolved=false`, { headers: { Authorization: adminAuth() } });
  expect(listed.status()).toBe(200);
  const mine = (await listed.json()).alarms.filter((a: { source: { id: string } }) => a.source.id === ca.fingerprint);
  expect(mine).toHaveLength(1);
  expect(mine[0].severity).toBe('MAJOR');

  await openConsole(page);
  await navigate(page, 'Alarms');
  const row = page.locator('table.alarms tbody tr').filter({ hasText: ca.fingerprint });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('MAJOR');
  await expect(row).toContainText('CA certificate');
  await expect(row).toContainText('expires in 4 days');
  await expect(row).toContainText(' UTC');
  await expect(row).toContainText('Active');
  await expectAccessible(page, 'alarms page with an active alarm');

  await row.getByRole('button', { name: /^Acknowledge alarm/ }).click();
  await expect(page.getByText('Alarm acknowledged.')).toBeVisible();
  await expect(row).toContainText('Acknowledged');
  await expect(row.getByRole('button', { name: /^Acknowledge alarm/ })).toHaveCount(0);

  await row.getByRole('button', { name: /^Clear alarm/ }).click();
  await expect(page.getByText('Alarm cleared.')).toBeVisible();
  await expect(row).toHaveCount(0);

  await page.getByLabel('Status', { exact: true }).selectOption('cleared');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Cleared');
  await expectAccessible(page, 'alarms page showing cleared alarms');

  // The source leads to the certificate.
  await row.getByRole('link', { name: ca.name }).click();
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`q=${ca.fingerprint}`));
});
