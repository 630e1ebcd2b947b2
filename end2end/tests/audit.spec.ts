// The audit page: the actions just taken, newest first, with who did them and from where;
// filtered by type, user and days, a page at a time.
import { expect, test } from '@playwright/test';
import { USER, adminAuth, makeCertificate, navigate, openConsole, tenantId, unique, uploadViaApi } from './support';

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
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/^Page 2 of \d+$/)).toBeVisible();
  await page.getByRole('button', { name: 'Previous' }).click();
  await expect(page.getByText(/^Page 1 of \d+$/)).toBeVisible();

  const user = page.getByLabel('User', { exact: true });
  await user.fill(`nobody-${unique()}`);
  await expect(page.getByText('No audit records to display.')).toBeVisible();
  await user.fill(USER);
  await expect(rows).toHaveCount(25);

  await page.getByLabel('From', { exact: true }).fill('2000-01-01');
  await page.getByLabel('To', { exact: true }).fill('2000-01-02');
  await expect(page.getByText('No audit records to display.')).toBeVisible();
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From', { exact: true }).fill(today);
  await page.getByLabel('To', { exact: true }).fill(today);
  await expect(rows).toHaveCount(25);

  await type.selectOption('');
  await expect(rows.first()).toContainText('Login');
});
