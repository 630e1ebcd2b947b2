// The trusted certificates page against the real server: add (file, DER, bundle), refuse a
// non-CA before sending anything, switches, rename and delete, each checked after a reload.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page, Request, expect, test } from '@playwright/test';
import { expectAccessible, expectNothingSent, makeCertificate, openConsole, reloadPage, row, uploadViaApi } from './support';

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
  await expectNothingSent(page, dialog, posts);
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

  // Disabling an enabled CA asks first (issue 16).
  put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await page.getByRole('switch', { name: `Enabled: ${ca.name}` }).click();
  await page.getByRole('dialog', { name: 'Disable trusted certificate?' }).getByRole('button', { name: 'Disable', exact: true }).click();
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

// ---- Issue 16 ------------------------------------------------------------------------------

/** The rows' names in the order shown. */
async function shownNames(page: Page): Promise<string[]> {
  return page.locator('tr.cert-row th[scope=row]').allInnerTexts().then((t) => t.map((n) => n.replace(/\s*Tenant CA$/, '').trim()));
}

test('disabling an enabled CA and deleting a CA ask first and state how many devices would be refused; focus returns to the opener', async ({ page, request }) => {
  const ca = makeCertificate('E2E Impact CA', { ca: true });
  await uploadViaApi(request, ca, 'ENABLED');
  await openConsole(page);
  const enabled = page.getByRole('switch', { name: `Enabled: ${ca.name}` });
  await expect(enabled).toBeChecked();

  // The count is the server's (device users' last CA); here it says 12.
  await page.route(`**/trusted-certificates/${ca.fingerprint}/devices/count`, (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ count: 12 }) }),
  );
  const puts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'PUT' && r.url().endsWith(ca.fingerprint)) puts.push(r.url());
  });
  await enabled.click();
  const disable = page.getByRole('dialog', { name: 'Disable trusted certificate?' });
  await expect(disable).toContainText('12 devices last got a token through this CA; they will be refused.');
  await expectAccessible(page, 'disable confirmation');
  await disable.getByRole('button', { name: 'Cancel' }).click();
  await expect(disable).toBeHidden();
  await expect(enabled).toBeChecked();
  await expect(enabled).toBeFocused();
  expect(puts).toEqual([]);

  const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await enabled.click();
  await disable.getByRole('button', { name: 'Disable', exact: true }).click();
  expect((await put).status()).toBe(200);
  await expect(enabled).not.toBeChecked();
  await page.unroute(`**/trusted-certificates/${ca.fingerprint}/devices/count`);

  // Delete: the real count (no device used this CA), then back to the Delete button.
  const deleteButton = page.getByRole('button', { name: `Delete ${ca.name}` });
  await deleteButton.click();
  const confirm = page.getByRole('dialog', { name: 'Delete trusted certificate?' });
  await expect(confirm).toContainText('No device has got a token through this CA so far.');
  await expectAccessible(page, 'delete confirmation with its impact');
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(deleteButton).toBeFocused();

  await deleteButton.click();
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(row(page, ca.name)).toHaveCount(0);
  // Its button is gone: focus goes to the page's heading, not to <body>.
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeFocused();
});

test('closing the add dialog returns focus to the button that opened it', async ({ page }) => {
  await openConsole(page);
  const add = page.getByRole('button', { name: 'Add trusted certificate' });
  await add.click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await expect(dialog).toBeVisible();
  await expectAccessible(page, 'add dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(add).toBeFocused();

  await add.click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(add).toBeFocused();
});

test('files dropped anywhere on the add dialog are added, with an overlay, and a drop elsewhere does not leave the console', async ({ page }) => {
  const ca = makeCertificate('E2E Dropped CA', { ca: true });
  await openConsole(page);
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await expect(dialog).toBeVisible();

  const files = await page.evaluateHandle((pem) => {
    const dt = new DataTransfer();
    dt.items.add(new File([pem], 'dropped.pem', { type: 'application/x-pem-file' }));
    return dt;
  }, ca.pem);
  // On the dialog itself (its padding, outside the form and the small drop area).
  await dialog.dispatchEvent('dragenter', { dataTransfer: files });
  const overlay = page.getByText('Drop the certificate files to add them');
  await expect(overlay).toBeVisible();
  await expectAccessible(page, 'add dialog while dragging');
  await dialog.dispatchEvent('drop', { dataTransfer: files });
  await expect(overlay).toBeHidden();
  await expect(dialog.getByLabel('Name', { exact: true })).toHaveValue(ca.name);
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeEnabled();

  // A drop on the page behind the dialog is taken by the console (the browser would open the file).
  const prevented = await page.evaluate(() => {
    const event = new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: new DataTransfer() });
    document.body.dispatchEvent(event);
    return event.defaultPrevented;
  });
  expect(prevented).toBe(true);
  await expect(page).toHaveURL(/\/trusted-certificates/);
});

test('the add button counts only the certificates that will be added, and parse errors are words', async ({ page }) => {
  const a = makeCertificate('E2E Count A', { ca: true });
  const b = makeCertificate('E2E Count B', { ca: true });
  const leaf = makeCertificate('E2E Count Leaf', { ca: false });
  await openConsole(page);
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Paste PEM').fill(a.pem + b.pem + leaf.pem);
  await expect(dialog.locator('article.candidate')).toHaveCount(3);
  await expect(dialog.getByRole('button', { name: 'Add 2 certificates' })).toBeDisabled();
  await expect(dialog.getByText('1 certificate fails a rule')).toBeVisible();

  // A character that is not base64, on line 3 of the pasted text.
  await dialog.getByLabel('Paste PEM').fill('-----BEGIN CERTIFICATE-----\nMIIB\nAB!C\n-----END CERTIFICATE-----\n');
  await expect(dialog).toContainText("This is not a PEM certificate: line 3 has a character that is not base64 ('!')");
  // Bytes that are not a certificate.
  await dialog.getByLabel('Paste PEM').fill('');
  // A SEQUENCE with a long-form length (so read as DER), then bytes that are no certificate.
  const garbage = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-der-')), 'garbage.der');
  fs.writeFileSync(garbage, Buffer.from([0x30, 0x81, 0x80, ...Array(128).fill(0x04)]));
  await dialog.getByLabel('Certificate files').setInputFiles(garbage);
  await expect(dialog).toContainText('This is not a certificate (its DER could not be read)');
  await expect(dialog).not.toContainText('BER error');
  await expectAccessible(page, 'add dialog with unreadable inputs');
});

test('a certificate is renamed with the Rename button, with a warning when the name is taken', async ({ page, request }) => {
  const a = makeCertificate('E2E Named A', { ca: true });
  const b = makeCertificate('E2E Named B', { ca: true });
  await uploadViaApi(request, a);
  await uploadViaApi(request, b);
  await openConsole(page);
  const rename = page.getByRole('button', { name: `Rename ${b.name}` });
  await rename.click();
  const dialog = page.getByRole('dialog', { name: 'Rename certificate' });
  const box = dialog.getByLabel('New name');
  await expect(box).toHaveValue(b.name);
  await box.fill(a.name);
  await expect(dialog).toContainText(`Another certificate is already named "${a.name}"`);
  await expectAccessible(page, 'rename dialog with the duplicate-name warning');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(rename).toBeFocused();

  // The details' rename warns too.
  await page.getByRole('button', { name: `Details of ${b.name}` }).click();
  await page.getByLabel('Certificate name').fill(a.name);
  await expect(page.locator('tr.details-row')).toContainText(`Another certificate is already named "${a.name}"`);
  await page.getByRole('button', { name: `Details of ${b.name}` }).click();

  const newName = `${b.name} renamed`;
  await rename.click();
  await box.fill(newName);
  await expect(dialog).not.toContainText('Another certificate');
  const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(b.fingerprint));
  await dialog.getByRole('button', { name: 'Save' }).click();
  expect((await put).status()).toBe(200);
  await expect(dialog).toBeHidden();
  await expect(row(page, newName)).toBeVisible();
  await reloadPage(page);
  await expect(row(page, newName)).toBeVisible();
});

test('search (also from ?q= in the address) and sortable columns', async ({ page, request }) => {
  const tag = `Sortable ${process.pid}-${Date.now()}`;
  const certs = ['Charlie', 'alpha', 'Bravo'].map((n, i) => makeCertificate(`${tag} ${n}`, { ca: true, days: 40 + i }));
  for (const c of certs) await uploadViaApi(request, c);
  const [charlie, alpha, bravo] = certs;

  // Another page links to /trusted-certificates?q=<fingerprint>.
  await openConsole(page);
  await page.goto(`/trusted-certificates?q=${bravo.fingerprint}`);
  await expect(page.getByLabel('Search')).toHaveValue(bravo.fingerprint);
  await expect(page.locator('tr.cert-row')).toHaveCount(1);
  await expect(row(page, bravo.name)).toBeVisible();
  await expect(page.getByText(/^1 of \d+ certificates? match/)).toBeVisible();
  await expectAccessible(page, 'list filtered from the address');

  const search = page.getByLabel('Search');
  await search.fill(tag.toLowerCase());
  await expect(page.locator('tr.cert-row')).toHaveCount(3);
  // The default order is by expiry: Charlie (40 days), alpha, Bravo.
  expect(await shownNames(page)).toEqual([charlie.name, alpha.name, bravo.name]);

  const byName = page.getByRole('columnheader', { name: 'Certificate' });
  await byName.getByRole('button').click();
  await expect(byName).toHaveAttribute('aria-sort', 'ascending');
  expect(await shownNames(page)).toEqual([alpha.name, bravo.name, charlie.name]);
  await byName.getByRole('button').click();
  await expect(byName).toHaveAttribute('aria-sort', 'descending');
  expect(await shownNames(page)).toEqual([charlie.name, bravo.name, alpha.name]);
  await expect(page.getByRole('columnheader', { name: 'Expiration date' })).toHaveAttribute('aria-sort', 'none');
  await expectAccessible(page, 'list searched and sorted');

  await search.fill('no such certificate at all');
  await expect(page.locator('tr.cert-row')).toHaveCount(0);
  await expect(page.getByText('No certificate matches "no such certificate at all".')).toBeVisible();
});

test('details show the serial in hex as openssl prints it, the SHA-256 fingerprint and dates in UTC', async ({ page, request }) => {
  const ca = makeCertificate('E2E Hex CA', { ca: true });
  await uploadViaApi(request, ca);
  const openssl = (what: string) =>
    execFileSync('openssl', ['x509', '-in', ca.pemPath, '-noout', what], { encoding: 'utf8' }).trim().split('=')[1];
  const serial = openssl('-serial');
  const sha256 = execFileSync('openssl', ['x509', '-in', ca.pemPath, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' })
    .trim()
    .split('=')[1]
    .replace(/:/g, '')
    .toLowerCase();
  await openConsole(page);
  await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
  const details = page.locator('tr.details-row');
  await expect(details.locator('code.serial-hex')).toHaveText(serial);
  await expect(details.locator('code.fingerprint-sha256')).toHaveText(sha256);
  await expect(details.locator('code.fingerprint')).toHaveText(ca.fingerprint);
  await expect(details).toContainText(/Expiration date \(UTC\)\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  await expectAccessible(page, 'row details');
});

test('the expiry timeline plots every CA with now and the 90-day window, loaded when opened', async ({ page, request }) => {
  const soon = makeCertificate('E2E Timeline Soon', { ca: true, days: 20 });
  const later = makeCertificate('E2E Timeline Later', { ca: true, days: 400 });
  await uploadViaApi(request, soon);
  await uploadViaApi(request, later);
  const chunks: string[] = [];
  page.on('request', (r) => {
    if (/split_|chunk_/.test(r.url())) chunks.push(r.url());
  });
  await openConsole(page);
  const section = page.locator('details.timeline');
  await expect(section.locator('summary')).toContainText('Expiry timeline');
  await expect(section.locator('summary')).toContainText(/expir\w* within 90 days/);
  expect(chunks).toEqual([]);

  await section.locator('summary').click();
  const plot = page.getByRole('img', { name: /Validity of every trusted certificate/ });
  await expect(plot).toBeVisible();
  expect(chunks.length).toBeGreaterThan(0);
  await expect(plot.locator('text').filter({ hasText: /^now$/ })).toHaveCount(1);
  await expect(plot.locator('rect.timeline-window')).toHaveCount(1);
  await expect(plot.locator('g.timeline-row.soon', { hasText: soon.name.slice(0, 20) })).toHaveCount(1);
  // No inline style (the CSP blocks it): sizes and colours are SVG attributes.
  expect(await plot.locator('[style]').count()).toBe(0);
  const table = page.locator('table.timeline-table');
  await expect(table.getByRole('row').filter({ hasText: soon.name })).toContainText(/(19|20) days/);
  await expect(table.getByRole('row').filter({ hasText: later.name })).toBeVisible();
  await expectAccessible(page, 'expiry timeline open');
});
