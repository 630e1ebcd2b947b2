// The trusted certificates page against the real server: add (file, DER, bundle), refuse a
// non-CA before sending anything, switches, rename and delete, each checked after a reload.
import { Request, expect, test } from '@playwright/test';
import { makeCertificate, openConsole, reloadPage, row, uploadViaApi } from './support';

test('a CA added through the file input is listed, and its details show the fingerprint', async ({ page }) => {
  const ca = makeCertificate('E2E Root CA', { ca: true });
  await openConsole(page);
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeDisabled();
  await expect(dialog).toContainText('Nothing to add yet');

  await dialog.getByLabel('Certificate files').setInputFiles(ca.pemPath);
  await expect(dialog.getByLabel('Name', { exact: true })).toHaveValue(ca.name);
  await expect(dialog.locator('li[data-passed="true"]')).toHaveCount(6);
  await expect(dialog.locator('li[data-passed="false"]')).toHaveCount(0);
  await expect(dialog).toContainText(ca.fingerprint);
  const add = dialog.getByRole('button', { name: 'Add certificate' });
  await expect(add).toBeEnabled();
  await add.click();

  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'Certificate saved.' })).toBeVisible();
  const line = row(page, ca.name);
  await expect(line).toBeVisible();
  await expect(line).toContainText('SHA256withECDSA');
  await expect(line).toContainText(/Expires in (29|30) days/);
  // Added disabled and without auto registration, like the platform's dialog.
  await expect(page.getByRole('switch', { name: `Enabled: ${ca.name}` })).not.toBeChecked();
  await expect(page.getByRole('switch', { name: `Auto registration: ${ca.name}` })).not.toBeChecked();

  await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
  const details = page.locator('tr.details-row');
  await expect(details.locator('code.fingerprint')).toHaveText(ca.fingerprint);
  await expect(details).toContainText(`CN=${ca.name}`);
  await expect(details.getByLabel('Certificate (PEM)')).toHaveValue(/^-----BEGIN CERTIFICATE-----/);
});

test('a certificate with CA:false is refused in the dialog and nothing is sent', async ({ page }) => {
  const leaf = makeCertificate('E2E Device', { ca: false });
  const posts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'POST' && r.url().includes('trusted-certificates')) posts.push(r.url());
  });
  await openConsole(page);
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Certificate files').setInputFiles(leaf.pemPath);

  const failed = dialog.locator('li[data-passed="false"]');
  await expect(failed).toHaveCount(1);
  await expect(failed).toContainText('BasicConstraints CA:true');
  await expect(failed).toContainText('CA:false');
  await expect(dialog.getByText('1 certificate fails a rule')).toBeVisible();
  const add = dialog.getByRole('button', { name: 'Add certificate' });
  await expect(add).toBeDisabled();

  // Enter in the name field would submit the form; it must not send anything either.
  await dialog.getByLabel('Name', { exact: true }).press('Enter');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  // A request made after the attempts: anything they had sent would have gone before it.
  const listed = page.waitForResponse((r) => r.request().method() === 'GET' && r.url().includes('trusted-certificates'));
  await page.getByRole('button', { name: 'Reload' }).click();
  await listed;
  expect(posts).toEqual([]);
  await expect(row(page, leaf.name)).toHaveCount(0);
});

test('a DER file and a pasted bundle of two are added in one go (bulk)', async ({ page }) => {
  const der = makeCertificate('E2E DER CA', { ca: true });
  const a = makeCertificate('E2E Bundle CA', { ca: true });
  const b = makeCertificate('E2E Bundle CA', { ca: true });
  await openConsole(page);
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Certificate files').setInputFiles(der.derPath);
  await dialog.getByLabel('Paste PEM').fill(a.pem + b.pem);
  await expect(dialog.locator('article.candidate')).toHaveCount(3);
  await dialog.getByLabel('Enable now').check();

  const bulk = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/trusted-certificates/bulk'));
  await dialog.getByRole('button', { name: 'Add 3 certificates' }).click();
  expect((await bulk).status()).toBe(201);
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: '3 certificates saved.' })).toBeVisible();
  for (const c of [der, a, b]) {
    await expect(page.getByRole('switch', { name: `Enabled: ${c.name}` })).toBeChecked();
  }
});

test('a certificate already trusted is flagged and cannot be added again', async ({ page, request }) => {
  const ca = makeCertificate('E2E Known CA', { ca: true });
  await uploadViaApi(request, ca);
  await openConsole(page);
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Paste PEM').fill(ca.pem);
  await expect(dialog).toContainText(`Already trusted as "${ca.name}".`);
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeDisabled();
  await expect(dialog.getByText('1 certificate is already trusted')).toBeVisible();
});

test('status and auto registration switches are saved', async ({ page, request }) => {
  const ca = makeCertificate('E2E Switch CA', { ca: true });
  await uploadViaApi(request, ca, 'DISABLED');
  await openConsole(page);

  const enabled = page.getByRole('switch', { name: `Enabled: ${ca.name}` });
  const auto = page.getByRole('switch', { name: `Auto registration: ${ca.name}` });
  await expect(enabled).not.toBeChecked();
  await expect(auto).not.toBeChecked();

  let put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await enabled.click();
  expect((await put).status()).toBe(200);
  await expect(enabled).toBeChecked();

  put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await auto.press('Space');
  expect((await put).status()).toBe(200);
  await expect(auto).toBeChecked();

  await reloadPage(page);
  await expect(page.getByRole('switch', { name: `Enabled: ${ca.name}` })).toBeChecked();
  await expect(page.getByRole('switch', { name: `Auto registration: ${ca.name}` })).toBeChecked();

  put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await page.getByRole('switch', { name: `Enabled: ${ca.name}` }).click();
  await put;
  await reloadPage(page);
  await expect(page.getByRole('switch', { name: `Enabled: ${ca.name}` })).not.toBeChecked();
});

test('a certificate is renamed from its details', async ({ page, request }) => {
  const ca = makeCertificate('E2E Rename CA', { ca: true });
  const newName = `${ca.name} renamed`;
  await uploadViaApi(request, ca);
  await openConsole(page);
  await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
  const box = page.getByLabel('Certificate name');
  await expect(box).toHaveValue(ca.name);

  await box.fill('   ');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Name must not be empty')).toBeVisible();

  await box.fill(newName);
  const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  expect((await put).status()).toBe(200);
  await expect(row(page, newName)).toBeVisible();
  await expect(row(page, ca.name)).toHaveCount(0);

  await reloadPage(page);
  await expect(row(page, newName)).toBeVisible();
});

test('a certificate is deleted after confirmation', async ({ page, request }) => {
  const ca = makeCertificate('E2E Delete CA', { ca: true });
  await uploadViaApi(request, ca);
  await openConsole(page);
  await expect(row(page, ca.name)).toBeVisible();

  await page.getByRole('button', { name: `Delete ${ca.name}` }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete trusted certificate?' });
  await expect(confirm).toContainText(`You are about to delete a trusted certificate "${ca.name}". Do you want to proceed?`);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(row(page, ca.name)).toBeVisible();

  await page.getByRole('button', { name: `Delete ${ca.name}` }).click();
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(confirm).toBeHidden();
  await expect(row(page, ca.name)).toHaveCount(0);

  await reloadPage(page);
  await expect(row(page, ca.name)).toHaveCount(0);
});

test('a switch whose change the server refuses goes back and says why', async ({ page, request }) => {
  const ca = makeCertificate('E2E Refused Switch CA', { ca: true });
  await uploadViaApi(request, ca);
  await openConsole(page);
  await page.route(`**/trusted-certificates/${ca.fingerprint}`, (route) =>
    route.request().method() === 'PUT'
      ? route.fulfill({
          status: 500,
          contentType: 'application/vnd.com.nsn.cumulocity.error+json',
          body: JSON.stringify({ error: 'general/Internal Server Error', message: 'Something went wrong.', info: '' }),
        })
      : route.continue(),
  );
  const enabled = page.getByRole('switch', { name: `Enabled: ${ca.name}` });
  await enabled.click();
  await expect(page.getByRole('alert')).toContainText(`Could not enable "${ca.name}": Something went wrong.`);
  await expect(enabled).not.toBeChecked();
});

test('an error answer to an upload stays in the dialog, in words', async ({ page }) => {
  const ca = makeCertificate('E2E Conflict CA', { ca: true });
  await openConsole(page);
  const message = `Cannot add certificate - certificate with ${ca.fingerprint} fingerprint already exists. : Certificate with ${ca.fingerprint} fingerprint already exists.`;
  await page.route('**/trusted-certificates', (route) =>
    route.request().method() === 'POST'
      ? route.fulfill({
          status: 409,
          contentType: 'application/vnd.com.nsn.cumulocity.error+json',
          body: JSON.stringify({ error: 'tenant/Conflict', message, info: '' }),
        })
      : route.continue(),
  );
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Certificate files').setInputFiles(ca.pemPath);
  await dialog.getByRole('button', { name: 'Add certificate' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(message);
  await expect(dialog).toBeVisible();
});
