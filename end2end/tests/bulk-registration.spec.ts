// Bulk registration: the preview checks every row in the browser with the shared rules, the
// templates download, and a registered file shows the server's result and its devices.
import * as fs from 'node:fs';
import { APIRequestContext, Page, Request, expect, test } from '@playwright/test';
import { adminAuth, expectAccessible, navigate, openConsole, tempFile, unique } from './support';

/** Registers `csv` through the REST API (set-up). */
async function registerViaApi(request: APIRequestContext, csv: string): Promise<void> {
  const res = await request.post('/devicecontrol/bulkNewDeviceRequests', {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    multipart: { file: { name: 'setup.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) } },
  });
  expect(res.status(), await res.text()).toBe(201);
}

/** Dispatches a file drag event (`type`) holding `csv` as `name` on the element `selector`
 * finds; returns whether the page took it (called `preventDefault`, so the browser does not
 * open the file). */
async function dragFile(page: Page, selector: string, type: string, csv: string, name = 'dropped.csv'): Promise<boolean> {
  return page.evaluate(([selector, type, csv, name]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([csv], name, { type: 'text/csv' }));
    const event = new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    const target = document.querySelector(selector);
    if (!target) throw new Error(`no ${selector}`);
    target.dispatchEvent(event);
    return event.defaultPrevented;
  }, [selector, type, csv, name]);
}

/** Collects Content-Security-Policy violations (the event and the console's report). */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.exposeFunction('reportCspViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { reportCspViolation: (t: string) => void })
        .reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sample})`);
    });
  });
  return violations;
}

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
  await expectAccessible(page, 'bulk registration, no file');
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
  await expect(page.getByText('None of the IDs is registered yet: 2 devices would be new.')).toBeVisible();
  await expectAccessible(page, 'bulk registration, preview with errors');

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
    '2 new', '0 registered already, updated', '0 failed',
  ]);
  await expect(result).toContainText('All 2 rows registered as new devices.');
  await expect(result).toContainText('Only the valid rows were sent');
  expect(posts).toHaveLength(1);
  await expectAccessible(page, 'bulk registration, result');
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
    '4 new', '0 registered already, updated', '0 failed',
  ]);

  // The same file again updates what is there, and says so before and after.
  await page.getByLabel('CSV file').setInputFiles(file);
  await expect(page.getByText('4 IDs are registered already and will not be created again.')).toBeVisible();
  await page.getByRole('button', { name: 'Register 4 devices' }).click();
  await expect(result.getByRole('list', { name: 'Result' }).getByRole('listitem')).toHaveText([
    '0 new', '4 registered already, updated', '0 failed',
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

test('a file dropped anywhere in the window is previewed, with an overlay while dragging, and the console stays', async ({ page }) => {
  const u = unique();
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  const url = page.url();
  const csv = `ID;AUTH_TYPE;CREDENTIALS\ne2e-anywhere-1-${u};CERTIFICATES;\ne2e-anywhere-2-${u};CERTIFICATES;\ne2e-anywhere-3-${u};CERTIFICATES;\n`;
  // The navigation bar is outside the page's section (the old drop area): the browser would
  // open a file dropped there and leave the console.
  const outside = 'nav';
  const overlay = page.getByText('Drop the CSV file to preview it');
  await expect(overlay).toHaveCount(0);
  expect(await dragFile(page, outside, 'dragenter', csv)).toBe(true);
  expect(await dragFile(page, outside, 'dragover', csv)).toBe(true);
  await expect(overlay).toBeVisible();
  await expectAccessible(page, 'bulk registration, dragging a file');
  expect(await dragFile(page, outside, 'drop', csv, 'anywhere.csv')).toBe(true);
  await expect(overlay).toHaveCount(0);
  await expect(page.getByRole('heading', { name: '“anywhere.csv”' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText('3 rows');
  expect(page.url()).toBe(url);
  // A drag that leaves the window takes the overlay away.
  await dragFile(page, 'body', 'dragenter', csv);
  await expect(overlay).toBeVisible();
  await dragFile(page, 'body', 'dragleave', csv);
  await expect(overlay).toHaveCount(0);

  // Once the page is left, drops are the other pages' business again.
  await navigate(page, 'Devices');
  expect(await dragFile(page, 'nav', 'dragover', csv)).toBe(false);
  expect(await dragFile(page, 'nav', 'drop', csv)).toBe(false);
});

test('the preview keeps Problems next to Line, in view with every column, without CSP violations; a row expands to show its problems', async ({ page }) => {
  const violations = await watchCsp(page);
  await page.setViewportSize({ width: 1366, height: 900 });
  const u = unique();
  const header = 'ID;TYPE;NAME;ICCID;IDTYPE;PATH;SHELL;AUTH_TYPE;CREDENTIALS;TENANT;ENROLLMENT_OTP;external-c8y_Imei;c8y_Hardware.model';
  const csv = [
    header,
    `e2e-full-1-${u};c8y_Device;Full 1;8900001;c8y_Serial;Region/Site;1;CERTIFICATES;;;;imei-1-${u};model-1`,
    `bad id ${u};;;8900002;;Region/Site;7;TOKEN;x;t123;otp;imei-2-${u};model-2`,
  ].join('\n');
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles(tempFile('full.csv', csv));
  const table = page.getByRole('region', { name: 'Rows of the file' });
  await expect(table.getByRole('rowheader', { name: '3', exact: true })).toBeVisible();

  await expect(table.getByRole('columnheader')).toHaveText([
    'Line', 'Problems', 'ID', 'TYPE', 'NAME', 'ICCID', 'IDTYPE', 'PATH', 'SHELL', 'AUTH_TYPE', 'CREDENTIALS', 'TENANT',
    'ENROLLMENT_OTP', 'external-c8y_Imei', 'c8y_Hardware.model',
  ]);
  // In view without scrolling sideways (the table is 9 rem a column wide).
  const problems = table.getByRole('columnheader', { name: 'Problems' });
  const box = await problems.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(1366);
  expect(await table.evaluate((el) => el.scrollLeft)).toBe(0);
  // The table's width came through (set through the CSSOM, which the CSP allows).
  expect(await table.locator('table').evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(1366);

  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: '3', exact: true }) });
  const cell = row.locator('td.problems');
  const clipped = () => cell.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
  expect(await clipped()).toBe(true);
  const expand = row.getByRole('button', { name: 'All problems of line 3' });
  await expect(expand).toHaveAttribute('aria-expanded', 'false');
  await expand.click();
  await expect(expand).toHaveAttribute('aria-expanded', 'true');
  expect(await clipped()).toBe(false);
  const items = cell.locator('.problem');
  expect(await items.count()).toBeGreaterThanOrEqual(5);
  for (const item of await items.all()) {
    await expect(item).toBeVisible();
    expect(await item.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  }
  await expect(cell).toContainText('AUTH_TYPE must be BASIC or CERTIFICATES');
  await expect(cell).toContainText('TENANT can only be used from the management tenant');
  await expectAccessible(page, 'bulk registration, a row expanded');
  await expand.click();
  await expect(expand).toHaveAttribute('aria-expanded', 'false');
  expect(violations).toEqual([]);
});

test('IDs registered already are flagged before registering, the result says what really happened, and the form offers what comes next', async ({ page, request }) => {
  const u = unique();
  const certs = [1, 2].map((n) => `e2e-again-cert-${n}-${u}`);
  const basic = `e2e-again-basic-${u}`;
  const fresh = `e2e-again-new-${u}`;
  await registerViaApi(request, [
    'ID;AUTH_TYPE;CREDENTIALS',
    ...certs.map((id) => `${id};CERTIFICATES;`),
    `${basic};BASIC;a-long-password-789`,
  ].join('\n'));
  const csv = [
    'ID;AUTH_TYPE;CREDENTIALS;NAME',
    ...certs.map((id, i) => `${id};CERTIFICATES;;Again ${i}`),
    `${basic};BASIC;another-password-123;Again basic`,
    `${fresh};CERTIFICATES;;New one`,
  ].join('\n');
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles(tempFile('again.csv', csv));
  await expect(page.getByText(
    '3 IDs are registered already and will not be created again. 2 certificate devices: name, type and properties are updated (they have no credentials); 1 password device: name, type, properties and password are updated.',
  )).toBeVisible();
  const table = page.getByRole('region', { name: 'Rows of the file' });
  const line = (n: number) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: String(n), exact: true }) });
  await expect(line(2)).toHaveClass(/existing/);
  await expect(line(2)).toContainText('Already registered: its name, type and properties will be updated (it has no credentials)');
  await expect(line(4)).toContainText('Already registered: its name, type, properties and password will be updated');
  await expect(line(5)).not.toHaveClass(/existing/);
  await expect(line(5)).not.toContainText('Already registered');
  await expectAccessible(page, 'bulk registration, IDs registered already');

  const register = page.getByRole('button', { name: 'Register 4 devices' });
  await register.click();
  const result = page.getByRole('region', { name: 'Registration result' });
  await expect(result.getByRole('list', { name: 'Result' }).getByRole('listitem')).toHaveText([
    '1 new', '3 registered already, updated', '0 failed',
  ]);
  await expect(result).toContainText('All 4 rows registered: 1 new device; 3 devices registered already were updated.');
  await expect(result).toContainText('2 certificate devices: name, type and properties updated; no credentials changed (they have none); 1 password device: name, type, properties and password updated.');
  await expect(result).not.toContainText('credentials updated');
  // Done: the same file is not sent twice; what comes next is offered.
  await expect(register).toBeDisabled();
  await expect(page.getByText('This file is registered. Load another file to register more devices.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'View devices' })).toHaveAttribute('href', '/devices');
  await expectAccessible(page, 'bulk registration, result with updates');
  await page.getByRole('button', { name: 'Load another file' }).click();
  await expect(result).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Rows of the file' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Register/ })).toHaveCount(0);
  await expect(page.getByLabel('CSV file')).toBeFocused();

  // Another file: Register is back.
  await page.getByLabel('CSV file').setInputFiles(tempFile('one.csv', `ID;AUTH_TYPE\ne2e-again-next-${u};CERTIFICATES\n`));
  await expect(page.getByRole('button', { name: 'Register 1 device' })).toBeEnabled();
  await page.getByRole('button', { name: 'Register 1 device' }).click();
  await expect(result).toContainText('All 1 row registered as new devices.');
  await page.getByRole('link', { name: 'View devices' }).click();
  await expect(page.getByRole('heading', { name: 'Devices', level: 1 })).toBeVisible();
});

test('a file with another separator is told so, naming the separators accepted', async ({ page }) => {
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.getByLabel('CSV file').setInputFiles(tempFile('pipes.csv', 'ID|AUTH_TYPE|CREDENTIALS\npipe-1|CERTIFICATES|\n'));
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('“pipes.csv” cannot be registered.');
  await expect(alert).toContainText(
    'The separator was not recognised: the header line must separate the column names with ";" or a tab or "," (found "|").',
  );
  await expect(alert).not.toContainText('ID is missing');
  await expectAccessible(page, 'bulk registration, separator not recognised');
});

test('on a phone the form fits the screen; the table scrolls in its own box', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const u = unique();
  await openConsole(page);
  await page.goto('/bulk-registration');
  await expect(page.getByRole('heading', { name: 'Bulk registration', level: 1 })).toBeVisible();
  const pageScrolls = () => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  expect(await pageScrolls()).toBe(false);
  const csv = `ID;TYPE;NAME;AUTH_TYPE;CREDENTIALS\ne2e-phone-${u};c8y_Device;Phone;CERTIFICATES;\nbad id;;;BASIC;\n`;
  await page.getByLabel('CSV file').setInputFiles(tempFile('phone.csv', csv));
  await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText('2 rows');
  expect(await pageScrolls()).toBe(false);
  const table = page.getByRole('region', { name: 'Rows of the file' });
  expect(await table.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await expect(page.getByLabel('Send only the valid rows')).toBeVisible();
  await expectAccessible(page, 'bulk registration on a phone');
});
