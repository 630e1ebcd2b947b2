// Bulk registration: the preview checks every row in the browser with the shared rules, the
// templates download, and a registered file shows the server's result and its devices.
import * as fs from 'node:fs';
import { Request, expect, test } from '@playwright/test';
import { adminAuth, navigate, openConsole, tempFile, unique } from './support';

test('a file with errors is previewed at once: highlighted rows, counts, problems and the errors-only filter', async ({ page }) => {
  const u = unique();
  const csv = [
    'ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME',
    `e2e-ok-${u};CERTIFICATES;;c8y_Device;Good one`,
    `bad id ${u};CERTIFICATES;;c8y_Device;Bad id`,
    `e2e-pw-${u};BASIC;a-long-password-123;c8y_Device;=SUM(A1:A2)`,
    `e2e-ok-${u};CERTIFICATES;;c8y_Device;Duplicate`,
    `e2e-nopw-${u};BASIC;;c8y_Device;No password`,
  ].join('\n');
  const posts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'POST' && r.url().includes('bulkNewDeviceRequests')) posts.push(r.url());
  });
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles(tempFile('devices.csv', csv));

  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem')).toHaveText([
    '5 rows', '2 valid', '3 with errors', '1 warning', '1 certificate device', '1 password device',
  ]);
  const table = page.getByRole('region', { name: 'Rows of the file' });
  const line = (n: number) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: String(n), exact: true }) });
  await expect(line(2)).not.toHaveClass(/invalid/);
  await expect(line(3)).toHaveClass(/invalid/);
  await expect(line(3)).toContainText('contains whitespace');
  await expect(line(5)).toHaveClass(/invalid/);
  await expect(line(5)).toContainText('is a duplicate of line 2');
  await expect(line(6)).toContainText('CREDENTIALS is required for password (BASIC) devices');
  // A formula is a warning, flagged on its cell; the row stays valid.
  await expect(line(4)).toHaveClass(/warned/);
  await expect(line(4).locator('td.formula')).toHaveText(/=SUM\(A1:A2\)/);
  await expect(line(4).getByRole('img', { name: 'Formula' })).toBeVisible();

  const rows = table.locator('tbody tr:not(.spacer)');
  await expect(rows).toHaveCount(5);
  await page.getByLabel('Errors only').check();
  await expect(rows).toHaveCount(3);
  await expect(rows.getByRole('rowheader')).toHaveText(['3', '5', '6']);
  await page.getByLabel('Errors only').uncheck();
  await expect(rows).toHaveCount(5);

  // Errors block the upload until the admin chooses to send only the valid rows.
  const register = page.getByRole('button', { name: 'Register 2 devices' });
  await expect(register).toBeDisabled();
  await expect(page.getByText('3 rows with errors: fix the file, or send only the valid rows.')).toBeVisible();
  expect(posts).toEqual([]);
  await page.getByLabel('Send only the valid rows').check();
  await expect(register).toBeEnabled();
  await register.click();

  const result = page.getByRole('region', { name: 'Registration result' });
  await expect(result.getByRole('list', { name: 'Result' }).getByRole('listitem')).toHaveText([
    '2 created', '0 credentials updated', '0 failed',
  ]);
  await expect(result).toContainText('All 2 devices registered.');
  await expect(result).toContainText('Only the valid rows were sent');
  expect(posts).toHaveLength(1);
});

test('the templates download as CSV files with the platform\'s header', async ({ page }) => {
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  const expected: [string, string, string][] = [
    ['Simple', 'bulk-registration-simple.csv', 'ID;AUTH_TYPE'],
    ['Full', 'bulk-registration-full.csv', '"ID";"TYPE";"NAME";"ICCID";"IDTYPE";"PATH";"SHELL";"AUTH_TYPE";"CREDENTIALS"'],
    ['Certificates', 'bulk-registration-certificates.csv', '"ID";"AUTH_TYPE";"CREDENTIALS";"TYPE";"NAME"'],
  ];
  for (const [label, fileName, header] of expected) {
    const downloaded = page.waitForEvent('download');
    await page.getByRole('link', { name: label, exact: true }).click();
    const download = await downloaded;
    expect(download.suggestedFilename()).toBe(fileName);
    const text = fs.readFileSync(await download.path(), 'utf8');
    expect(text.split('\n')[0]).toBe(header);
  }
});

test('a valid file is registered with its result shown, and the devices page finds the devices', async ({ page }) => {
  const u = unique();
  const ids = [1, 2, 3].map((n) => `e2e-cert-${n}-${u}`);
  const csv = [
    '"ID";"AUTH_TYPE";"CREDENTIALS";"TYPE";"NAME"',
    ...ids.map((id, i) => `"${id}";"CERTIFICATES";"";"c8y_Sensor";"Sensor ${i + 1}; hall ${u}"`),
    `"e2e-basic-${u}";"BASIC";"a-long-password-456";"c8y_Gateway";"Gateway ${u}"`,
  ].join('\r\n');
  const file = tempFile('valid.csv', csv);
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles(file);
  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem')).toHaveText([
    '4 rows', '4 valid', '0 with errors', '0 warnings', '3 certificate devices', '1 password device',
  ]);
  await expect(page.getByLabel('Errors only')).toBeDisabled();
  await page.getByRole('button', { name: 'Register 4 devices' }).click();
  const result = page.getByRole('region', { name: 'Registration result' });
  await expect(result.getByRole('list', { name: 'Result' }).getByRole('listitem')).toHaveText([
    '4 created', '0 credentials updated', '0 failed',
  ]);

  // The same file again updates what is there.
  await page.getByLabel('CSV file').setInputFiles(file);
  await page.getByRole('button', { name: 'Register 4 devices' }).click();
  await expect(result.getByRole('list', { name: 'Result' }).getByRole('listitem')).toHaveText([
    '0 created', '4 credentials updated', '0 failed',
  ]);

  await navigate(page, 'Devices');
  await page.getByLabel('Search devices').fill(ids[1]);
  const rows = page.locator('table.devices tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.getByRole('rowheader')).toHaveText(ids[1]);
  await expect(rows).toContainText(`Sensor 2; hall ${u}`);
  await expect(rows).toContainText('c8y_Sensor');
  await expect(rows).toContainText('Certificate');
  await expect(rows).toContainText('Bulk');

  await page.getByLabel('Search devices').fill(`hall ${u}`);
  await expect(rows).toHaveCount(3);
  await page.getByLabel('Search devices').fill(`nothing-like-this-${u}`);
  await expect(page.getByText(`No device matches “nothing-like-this-${u}”.`)).toBeVisible();
});

test('the devices page pages through 50 devices at a time', async ({ page, request }) => {
  const u = unique();
  const lines = ['ID;AUTH_TYPE;CREDENTIALS;NAME'];
  for (let i = 0; i < 60; i += 1) lines.push(`e2e-page-${i}-${u};CERTIFICATES;;Paged ${u}`);
  const res = await request.post('/devicecontrol/bulkNewDeviceRequests', {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    multipart: { file: { name: 'paged.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) } },
  });
  expect(res.status(), await res.text()).toBe(201);

  await openConsole(page);
  await navigate(page, 'Devices');
  const searched = page.waitForResponse((r) => r.url().includes('text=Paged'));
  await page.getByLabel('Search devices').fill(`Paged ${u}`);
  await searched;
  const pager = page.getByRole('navigation', { name: 'Pages' });
  await expect(pager).toContainText('Page 1 of 2');
  const rows = page.locator('table.devices tbody tr');
  await expect(rows).toHaveCount(50);
  await expect(pager.getByRole('button', { name: 'Previous' })).toBeDisabled();
  await pager.getByRole('button', { name: 'Next' }).click();
  await expect(pager).toContainText('Page 2 of 2');
  await expect(rows).toHaveCount(10);
  await expect(pager.getByRole('button', { name: 'Next' })).toBeDisabled();
});

test('a large file renders only the rows in view, and scrolling reaches the last one', async ({ page }) => {
  const u = unique();
  const lines = ['ID;AUTH_TYPE;CREDENTIALS'];
  for (let i = 0; i < 20_000; i += 1) lines.push(`e2e-big-${i}-${u};CERTIFICATES;`);
  lines.push(`e2e-big-0-${u};CERTIFICATES;`); // a duplicate on the last line, 20,002
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles(tempFile('big.csv', lines.join('\n')));
  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText('20,001 rows');

  const table = page.getByRole('region', { name: 'Rows of the file' });
  const rendered = table.locator('tbody tr:not(.spacer)');
  await expect(table.getByRole('rowheader', { name: '2', exact: true })).toBeVisible();
  expect(await rendered.count()).toBeLessThan(100);
  await table.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await expect(table.getByRole('rowheader', { name: '20002', exact: true })).toBeVisible();
  const last = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: '20002', exact: true }) });
  await expect(last).toContainText('is a duplicate of line 2');
  expect(await rendered.count()).toBeLessThan(100);

  await page.getByLabel('Errors only').check();
  await expect(rendered).toHaveCount(1);
  await expect(rendered.getByRole('rowheader')).toHaveText('20002');
});

test('a file dropped on the page is previewed like a chosen one', async ({ page }) => {
  const u = unique();
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  const csv = `ID,AUTH_TYPE,CREDENTIALS\ne2e-drop-1-${u},CERTIFICATES,\ne2e-drop-2-${u},CERTIFICATES,\n`;
  const transfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.csv', { type: 'text/csv' }));
    return dt;
  }, csv);
  await page.locator('section.page').dispatchEvent('drop', { dataTransfer: transfer });
  await expect(page.getByRole('heading', { name: '“dropped.csv”' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText('2 rows');
  await expect(page.getByRole('button', { name: 'Register 2 devices' })).toBeEnabled();
});

test('when the file checker cannot start, choosing a file says so instead of waiting', async ({ page }) => {
  await page.route('**/bulk-worker.js', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles({ name: 'any.csv', mimeType: 'text/csv', buffer: Buffer.from('ID;CREDENTIALS\na;pw-123456789\n') });
  await expect(page.getByRole('alert')).toContainText('“any.csv” cannot be registered.');
  await expect(page.getByRole('alert')).toContainText(/file checker|could not be checked in the background/);
});

test('where a worker cannot start a worker, the file checker reads the file itself', async ({ page }) => {
  // The checker's worker hands the file to a reader worker of its own (bulk-reader.js); here
  // its scope has no `Worker`, so it reads the file on its own thread, and the preview is the same.
  await page.route('**/bulk-worker.js', async (route) => {
    const original = await (await route.fetch()).text();
    await route.fulfill({ contentType: 'text/javascript', body: original.replace(/^(import .*;\n)/m, '$1delete self.Worker;\n') });
  });
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  const lines = ['ID;AUTH_TYPE;CREDENTIALS'];
  for (let i = 0; i < 3000; i += 1) lines.push(`e2e-self-${i};CERTIFICATES;`);
  lines.push('bad id;CERTIFICATES;');
  await page.getByLabel('CSV file').setInputFiles({ name: 'self.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText('3,001 rows');
  const table = page.getByRole('region', { name: 'Rows of the file' });
  await expect(table.getByRole('rowheader', { name: '2', exact: true })).toBeVisible();
  await page.getByLabel('Errors only').check();
  await expect(table.locator('tbody tr:not(.spacer)')).toHaveCount(1);
  await expect(table.getByRole('rowheader')).toHaveText('3002');
});
