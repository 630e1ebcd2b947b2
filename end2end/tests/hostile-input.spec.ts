// Hostile input through the console (issue 17), the browser's half of
// server/tests/api/hostile.rs: every class of bad input a person can give the "Add trusted
// certificate" dialog (files and pasted PEM) and the bulk registration page. For each one the
// console says in words what is wrong (the exact wording of the shared rules in common/src),
// sends nothing the browser knows is invalid (even when the form is submitted by force), shows
// markup as text, and keeps working: the page does not crash (a wasm panic kills it; every test
// fails on an uncaught error) and a valid input given next is taken as usual. What the browser
// accepts by contract (a negative serial, formula cells, a CSV that is not UTF-8) is sent and
// registered, and what the server alone can refuse shows the server's own message.
// Certificates are made with the openssl CLI at test time, in temporary directories. The last
// test holds a bug this suite found (the add dialog's clock stopped when it opened).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Locator, Page, Request, expect, test } from '@playwright/test';
import {
  TestCertificate, adminAuth, expectNothingSent, makeCertificate, navigate, openConsole, row, unique, uploadViaApi,
} from './support';

// ---- Crashes and requests ----------------------------------------------------------------------

/** Uncaught errors of the page in the current test: a panic in the console's wasm is one
 * ("RuntimeError: unreachable"), and leaves a page that no longer reacts. */
let crashes: string[] = [];

test.beforeEach(({ page }) => {
  crashes = [];
  page.on('pageerror', (e) => crashes.push(`${e.name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /RuntimeError|unreachable|panicked/i.test(m.text())) crashes.push(m.text());
  });
});

test.afterEach(() => {
  expect(crashes, 'the console threw (a wasm panic kills the page)').toEqual([]);
});

/** The POST requests the page sends to URLs matching `url`, collected from now on. */
function watchPosts(page: Page, url: RegExp): string[] {
  const posts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'POST' && url.test(r.url())) posts.push(r.url());
  });
  return posts;
}

const CERTIFICATE_POSTS = /\/trusted-certificates(\/bulk)?$/;
const BULK_POSTS = /\/devicecontrol\/bulkNewDeviceRequests$/;

// ---- Certificates made with openssl -------------------------------------------------------------

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const CA = ['-addext', 'basicConstraints=critical,CA:true'];

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-hostile-'));
}

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A self-signed certificate for `subject` made by `openssl req -x509` with `args` (key and
 * extensions), as PEM; its key is removed. */
function selfSigned(subject: string, args: string[]): string {
  const dir = tempDir();
  openssl(dir, ['req', '-x509', '-nodes', '-days', '30', '-subj', subject, '-keyout', 'key.pem', '-out', 'cert.pem', ...args]);
  fs.rmSync(path.join(dir, 'key.pem'));
  return fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
}

/** An X.509 v1 certificate: `openssl x509 -req` signs a request without extensions. */
function v1Certificate(): string {
  const dir = tempDir();
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'v1.key']);
  openssl(dir, ['req', '-new', '-key', 'v1.key', '-subj', `/CN=E2E v1 CA ${unique()}`, '-out', 'v1.csr']);
  openssl(dir, ['x509', '-req', '-in', 'v1.csr', '-signkey', 'v1.key', '-days', '30', '-out', 'v1.pem']);
  fs.rmSync(path.join(dir, 'v1.key'));
  return fs.readFileSync(path.join(dir, 'v1.pem'), 'utf8');
}

// ---- The add dialog --------------------------------------------------------------------------

async function openAddDialog(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Why the add button is disabled, as the dialog says it. */
function reason(dialog: Locator): Locator {
  return dialog.locator('#add-reason');
}

/** The card of one input (a file name, "Pasted PEM", or either with "(certificate i of n)"). */
function card(dialog: Locator, source: string): Locator {
  return dialog.getByRole('article', { name: source, exact: true });
}

/** Chooses one file in the dialog's file input. */
async function chooseFile(dialog: Locator, name: string, bytes: Buffer | string): Promise<void> {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  await dialog.getByLabel('Certificate files').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
}

/** Pastes `text` into the "Paste PEM" box at once, as a paste does (typing megabytes through
 * Playwright's `fill` takes minutes). */
async function paste(dialog: Locator, text: string): Promise<void> {
  await dialog.getByLabel('Paste PEM').evaluate((box: HTMLTextAreaElement, value: string) => {
    box.value = value;
    box.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
  }, text);
}

/** Submits the form whatever its button says (as a script or a stuck Enter key would): the
 * dialog must still send nothing while something is refused. */
async function forceSubmit(dialog: Locator): Promise<void> {
  await dialog.locator('form').evaluate((form: HTMLFormElement) => form.requestSubmit());
}

/** The input `source` is refused in the words `message`; the add button is disabled, saying
 * `why`; a forced submit sends nothing; then the input is removed. */
async function expectUnreadable(dialog: Locator, source: string, message: string, why = '1 input cannot be read'): Promise<void> {
  const refused = card(dialog, source);
  await expect(refused.locator('p.error')).toHaveText(`✗ ${message}`);
  await expect(reason(dialog)).toHaveText(why);
  await expect(dialog.getByRole('button', { name: /^Add (certificate|\d+ certificates)$/ })).toBeDisabled();
  await forceSubmit(dialog);
  await dialog.getByRole('button', { name: `Remove ${source}` }).click();
  await expect(refused).toHaveCount(0);
  await expect(reason(dialog)).toHaveText('Nothing to add yet');
}

/** The certificate of `source` fails exactly the rules `failed` ([label, what was found]). */
async function expectFailedRules(dialog: Locator, source: string, failed: [string, string][]): Promise<void> {
  const checks = card(dialog, source).locator('li[data-passed="false"]');
  await expect(checks.locator('.rule')).toHaveText(failed.map(([rule]) => rule));
  await expect(checks.locator('.detail')).toHaveText(failed.map(([, detail]) => detail));
  await expect(card(dialog, source).locator('li[data-passed="true"]')).toHaveCount(6 - failed.length);
  await expect(reason(dialog)).toHaveText('1 certificate fails a rule');
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeDisabled();
  await forceSubmit(dialog);
}

/** The dialog still reacts: a valid CA pasted now passes every rule and can be added; the
 * paste is then cleared again. */
async function expectStillWorks(dialog: Locator, valid: TestCertificate): Promise<void> {
  const paste = dialog.getByLabel('Paste PEM');
  await paste.fill(valid.pem);
  await expect(card(dialog, 'Pasted PEM').locator('li[data-passed="true"]')).toHaveCount(6);
  await expect(dialog.getByLabel('Name', { exact: true })).toHaveValue(valid.name);
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeEnabled();
  await paste.fill('');
  await expect(reason(dialog)).toHaveText('Nothing to add yet');
}


/** Nothing the page made from hostile text ran or became an element. */
async function expectNoMarkup(page: Page): Promise<void> {
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  await expect(page.locator('script', { hasText: '__pwned' })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
}

test('files and pastes that are not certificates, too large, or too many are refused in words; nothing is sent', async ({ page }) => {
  const valid = makeCertificate('E2E Hostile Alive CA', { ca: true });
  const many = makeCertificate('E2E Hostile Many', { ca: true });
  const posts = watchPosts(page, CERTIFICATE_POSTS);
  await openConsole(page);
  const dialog = await openAddDialog(page);

  // Random binary (an image's signature, then noise): read as DER, and it is not a certificate.
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(4096)]);
  await chooseFile(dialog, 'noise.png', png);
  await expectUnreadable(dialog, 'noise.png', 'This is not a certificate (its DER could not be read)');
  await expectStillWorks(dialog, valid);

  // Text that is not UTF-8 (Latin-1, and bytes no encoding has).
  const latin1 = Buffer.concat([Buffer.from('certificate of the caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from(' ...\n'.repeat(60))]);
  await chooseFile(dialog, 'not-utf8.pem', latin1);
  await expectUnreadable(dialog, 'not-utf8.pem', 'This is not a certificate (its DER could not be read)');

  // A very large file (1 MiB): refused by its size before it is read.
  await chooseFile(dialog, 'huge.pem', randomBytes(1024 * 1024));
  await expectUnreadable(dialog, 'huge.pem', 'The input is larger than 512 KiB');

  // One CA repeated 10,000 times, as a file and pasted (the server answers 413).
  const bundle = valid.pem.repeat(10_000);
  await chooseFile(dialog, 'bundle-10000.pem', bundle);
  await expectUnreadable(dialog, 'bundle-10000.pem', 'The input is larger than 512 KiB');
  await paste(dialog, bundle);
  await expectUnreadable(dialog, 'Pasted PEM', 'The input is larger than 512 KiB');
  await expect(dialog.getByLabel('Paste PEM')).toHaveValue('');
  await expectStillWorks(dialog, valid);

  // A bundle small enough to read but over the 500 a request may add.
  await paste(dialog, many.pem.repeat(600));
  await expect(reason(dialog)).toHaveText('599 certificates are selected twice; At most 500 certificates can be added at once');
  await expect(card(dialog, 'Pasted PEM (certificate 600 of 600)'))
    .toContainText('Duplicate: the same certificate is already selected (Pasted PEM (certificate 1 of 600)).');
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeDisabled();
  await forceSubmit(dialog);
  await dialog.getByLabel('Paste PEM').fill('');
  await expect(reason(dialog)).toHaveText('Nothing to add yet');

  await expectStillWorks(dialog, valid);
  await expectNothingSent(page, dialog, posts);
});

test('CAs that break a rule (X.509 v1, RSA 1024, an unknown critical extension) are refused rule by rule; nothing is sent', async ({ page }) => {
  const valid = makeCertificate('E2E Hostile Alive CA', { ca: true });
  const v1 = v1Certificate();
  const rsa1024 = selfSigned(`/CN=E2E RSA 1024 CA ${unique()}`, ['-newkey', 'rsa:1024', ...CA]);
  const critical = selfSigned(`/CN=E2E Critical CA ${unique()}`, [...EC, ...CA, '-addext', '1.2.3.4.5=critical,DER:05:00']);
  const posts = watchPosts(page, CERTIFICATE_POSTS);
  await openConsole(page);
  const dialog = await openAddDialog(page);

  await chooseFile(dialog, 'v1.pem', v1);
  await expectFailedRules(dialog, 'v1.pem', [
    ['X.509 version 3', 'it is X.509 version 1; only version 3 certificates can be trusted'],
    ['BasicConstraints CA:true', 'it has no BasicConstraints extension; a trusted certificate needs CA:true'],
  ]);
  await dialog.getByRole('button', { name: 'Remove v1.pem' }).click();

  await chooseFile(dialog, 'rsa1024.pem', rsa1024);
  await expectFailedRules(dialog, 'rsa1024.pem', [
    ["A key devices' chains can be verified with",
      "its RSA key of 1024 bits is too weak: devices' chains would be refused. Use a key of 2048 bits or more"],
  ]);
  await dialog.getByRole('button', { name: 'Remove rsa1024.pem' }).click();

  await chooseFile(dialog, 'critical.pem', critical);
  await expectFailedRules(dialog, 'critical.pem', [
    ['No unknown critical extension', 'it has a critical extension anchorage does not understand (1.2.3.4.5)'],
  ]);
  await dialog.getByRole('button', { name: 'Remove critical.pem' }).click();
  await expect(reason(dialog)).toHaveText('Nothing to add yet');

  await expectStillWorks(dialog, valid);
  await expectNothingSent(page, dialog, posts);
});

test('a CA with a negative serial is accepted, as the platform\'s contract has it, and shown with its serial', async ({ page }) => {
  const name = `E2E Negative Serial CA ${unique()}`;
  const pem = selfSigned(`/CN=${name}`, [...EC, ...CA, '-set_serial', '-5']);
  await openConsole(page);
  const dialog = await openAddDialog(page);
  await dialog.getByLabel('Paste PEM').fill(pem);
  await expect(card(dialog, 'Pasted PEM').locator('li[data-passed="true"]')).toHaveCount(6);
  await expect(dialog.getByLabel('Name', { exact: true })).toHaveValue(name);
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && CERTIFICATE_POSTS.test(r.url()));
  await dialog.getByRole('button', { name: 'Add certificate' }).click();
  expect((await created).status()).toBe(201);
  await expect(dialog).toBeHidden();
  await expect(row(page, name)).toBeVisible();

  await page.getByRole('button', { name: `Details of ${name}` }).click();
  const details = page.locator('tr.details-row');
  await expect(details.getByRole('definition').filter({ hasText: /^-5$/ })).toHaveCount(1);
  // In hex, the serial's two's-complement byte, as revocation lists keep it (docs/decisions.md):
  // OpenSSL prints -05.
  await expect(details.locator('code.serial-hex')).toHaveText('FB');
});

test('markup and control characters in a subject and in the name are text; names the server would refuse are refused in words first', async ({ page }) => {
  const u = unique();
  // Each attribute at most 64 characters (openssl's limit for CN).
  const cn = `<img src=x onerror=__pwned=1>\u0007\u001b[31m ${u}`;
  const pem = selfSigned(`/O=E2E Hostile ${u}/OU=<script>__pwned=2<\\/script>/CN=${cn}`, [...EC, ...CA]);
  const posts = watchPosts(page, CERTIFICATE_POSTS);
  await openConsole(page);
  const dialog = await openAddDialog(page);
  await dialog.getByLabel('Paste PEM').fill(pem);
  const pasted = card(dialog, 'Pasted PEM');
  await expect(pasted.locator('li[data-passed="true"]')).toHaveCount(6);
  // The subject is shown as text, as Java prints it (quoted), the markup never an element.
  await expect(pasted.locator('dl')).toContainText('CN="<img src=x onerror=__pwned=1>');
  await expect(pasted.locator('dl')).toContainText('OU="<script>__pwned=2</script>"');
  // Control characters (and bidirectional overrides) in a subject are shown as their codes.
  await expect(pasted.locator('dl')).toContainText('<U+0007><U+001B>[31m');
  // The default name is the CN with its run of control characters made one space.
  const nameBox = dialog.getByLabel('Name', { exact: true });
  await expect(nameBox).toHaveValue(`<img src=x onerror=__pwned=1> [31m ${u}`);
  await expectNoMarkup(page);

  // Names the server refuses (422) are refused here, in words, and never sent.
  const nameError = pasted.locator('p.field-error');
  const refusedNames: [string, string][] = [
    ['CA\u0007\u001b[31m', 'Name must not contain control characters or line breaks (found U+0007)'],
    ['ca\u202etxt.exe',
      'Name must not contain bidirectional formatting characters (found U+202E, right-to-left override): they make text show in another order than it is written'],
    ['n'.repeat(64 * 1024), 'Name must be at most 255 characters'],
  ];
  for (const [name, message] of refusedNames) {
    await nameBox.fill(name);
    await expect(nameError).toHaveText(message);
    await expect(nameBox).toHaveAttribute('aria-invalid', 'true');
    await expect(reason(dialog)).toHaveText('1 certificate needs a valid name');
    await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeDisabled();
    await nameBox.press('Enter');
    await forceSubmit(dialog);
  }
  expect(posts).toEqual([]);

  // Markup in a name is a name like any other: saved, and listed as text.
  const markupName = `<script>__pwned=4</script><img src=x onerror=__pwned=5> ${u}`;
  await nameBox.fill(markupName);
  await expect(nameError).toHaveText('');
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && CERTIFICATE_POSTS.test(r.url()));
  await dialog.getByRole('button', { name: 'Add certificate' }).click();
  expect((await created).status()).toBe(201);
  await expect(dialog).toBeHidden();
  await expect(row(page, markupName)).toBeVisible();
  await page.getByRole('button', { name: `Details of ${markupName}` }).click();
  const details = page.locator('tr.details-row');
  await expect(details).toContainText('OU="<script>__pwned=2</script>"');
  await expect(details).toContainText('<U+0007><U+001B>[31m');
  await expect(details.getByLabel('Certificate name')).toHaveValue(markupName);
  await expectNoMarkup(page);
  expect(posts).toHaveLength(1);
});

test('a certificate the browser accepts but the server refuses (added elsewhere meanwhile) shows the server\'s message', async ({ page, request }) => {
  const ca = makeCertificate('E2E Hostile Raced CA', { ca: true });
  await openConsole(page);
  const dialog = await openAddDialog(page);
  await dialog.getByLabel('Paste PEM').fill(ca.pem);
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeEnabled();
  // Someone else adds it while the dialog is open.
  await uploadViaApi(request, ca);
  const refused = page.waitForResponse((r) => r.request().method() === 'POST' && CERTIFICATE_POSTS.test(r.url()));
  await dialog.getByRole('button', { name: 'Add certificate' }).click();
  expect((await refused).status()).toBe(409);
  await expect(dialog.getByRole('alert')).toHaveText(
    `Cannot add certificate - certificate with ${ca.fingerprint} fingerprint already exists. : Certificate with ${ca.fingerprint} fingerprint already exists.`,
  );
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
});

// ---- Bulk registration -------------------------------------------------------------------------

async function chooseCsv(page: Page, name: string, bytes: Buffer | string): Promise<void> {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  await page.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer });
}

function counts(page: Page): Locator {
  return page.getByRole('list', { name: 'Counts' }).getByRole('listitem');
}

/** The preview's row of file line `n`. */
function line(page: Page, n: number): Locator {
  return page.getByRole('region', { name: 'Rows of the file' }).getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: String(n), exact: true }) });
}

/** The file `name` is refused as a whole, in the words `message`, with nothing to register. */
async function expectRefusedFile(page: Page, name: string, message: string): Promise<void> {
  await expect(page.getByRole('alert').locator('p')).toHaveText([`“${name}” cannot be registered.`, message]);
  await expect(page.getByRole('button', { name: /^Register/ })).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Rows of the file' })).toHaveCount(0);
}

/** The page still reacts: a valid file chosen now is previewed and can be registered. */
async function expectStillPreviews(page: Page): Promise<void> {
  await chooseCsv(page, 'alive.csv', `ID;AUTH_TYPE\ne2e-alive-${unique()};CERTIFICATES\n`);
  await expect(page.getByRole('heading', { name: '“alive.csv”' })).toBeVisible();
  await expect(counts(page).first()).toHaveText('1 row');
  await expect(page.getByRole('button', { name: 'Register 1 device' })).toBeEnabled();
}

test('a CSV in UTF-16 and one with an unbalanced quote are refused in words, and nothing is sent', async ({ page }) => {
  const posts = watchPosts(page, BULK_POSTS);
  await openConsole(page);
  await navigate(page, 'Bulk registration');

  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ID,CREDENTIALS,AUTH_TYPE\ndev-16,,CERTIFICATES\n', 'utf16le')]);
  await chooseCsv(page, 'utf16.csv', utf16);
  await expectRefusedFile(page, 'utf16.csv', 'The file is UTF-16 encoded; save it as UTF-8 (or Windows-1252) and try again.');
  await expectStillPreviews(page);

  await chooseCsv(page, 'quote.csv', 'ID,CREDENTIALS,AUTH_TYPE\n"q-1,,CERTIFICATES\n');
  await expectRefusedFile(page, 'quote.csv', 'The quote opened on line 2 is never closed.');
  await expectStillPreviews(page);
  expect(posts).toEqual([]);
});

test('a 1 MB line fails in its row, and only the valid rows are sent', async ({ page }) => {
  const u = unique();
  const posts = watchPosts(page, BULK_POSTS);
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  const huge = 'd'.repeat(1024 * 1024);
  await chooseCsv(page, 'huge-line.csv', `ID,CREDENTIALS,AUTH_TYPE\n${huge},,CERTIFICATES\ne2e-after-huge-${u},,CERTIFICATES\n`);
  await expect(counts(page)).toHaveText([
    '2 rows', '1 valid', '1 with errors', '0 warnings', '1 certificate device', '0 password devices',
  ]);
  await expect(line(page, 2)).toHaveClass(/invalid/);
  await expect(line(page, 2).locator('.problem')).toHaveText([
    'ID: The device id is longer than 128 characters',
    'ID: The value is longer than 4096 characters',
  ]);
  await expect(line(page, 3)).not.toHaveClass(/invalid/);
  const register = page.getByRole('button', { name: 'Register 1 device' });
  await expect(register).toBeDisabled();
  await expect(page.getByText('1 row with errors: fix the file, or send only the valid rows.')).toBeVisible();
  expect(posts).toEqual([]);

  await page.getByLabel('Send only the valid rows').check();
  const sent = page.waitForRequest((r) => r.method() === 'POST' && BULK_POSTS.test(r.url()));
  await register.click();
  // The body is a Blob (its bytes are not in the request's record): its size tells.
  const { requestBodySize } = await (await sent).sizes();
  expect(requestBodySize).toBeLessThan(4096);
  const result = page.getByRole('region', { name: 'Registration result' });
  await expect(result.getByRole('list', { name: 'Result' }).getByRole('listitem')).toHaveText([
    '1 new', '0 registered already, updated', '0 failed',
  ]);
  await expect(result).toContainText('All 1 row registered as new devices.');
  await expect(result).toContainText('Only the valid rows were sent');
  expect(posts).toHaveLength(1);
});

test('a CSV that is not UTF-8 is read as Windows-1252, with a warning, and registered as previewed', async ({ page }) => {
  const u = unique();
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  // 0xE9 is é in Windows-1252 (and no UTF-8).
  const csv = Buffer.concat([Buffer.from('ID,CREDENTIALS,AUTH_TYPE\ncaf'), Buffer.from([0xe9]), Buffer.from(`-${u},,CERTIFICATES\n`)]);
  await chooseCsv(page, 'ansi.csv', csv);
  await expect(counts(page)).toHaveText([
    '1 row', '1 valid', '0 with errors', '1 warning', '1 certificate device', '0 password devices',
  ]);
  await expect(page.locator('ul.file-issues li')).toHaveText(['The file is not UTF-8; it was read as Windows-1252 (ANSI).']);
  await expect(line(page, 2)).toContainText(`café-${u}`);
  await page.getByRole('button', { name: 'Register 1 device' }).click();
  const result = page.getByRole('region', { name: 'Registration result' });
  await expect(result).toContainText('All 1 row registered as new devices.');

  // The server read the same id: the same file again finds it registered.
  await chooseCsv(page, 'ansi.csv', csv);
  await expect(page.getByText(
    '1 ID is registered already and will not be created again. 1 certificate device: name, type and properties are updated (they have no credentials).',
  )).toBeVisible();
});

test('formula cells are flagged in the preview and registered as data; markup in a cell is text', async ({ page, request }) => {
  const u = unique();
  const formulas = ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1:A2)'];
  const markup = '<img src=x onerror=__pwned=3>';
  const ids = [...formulas, markup].map((_, i) => `e2e-formula-${i}-${u}`);
  const csv = [
    'ID;AUTH_TYPE;CREDENTIALS;NAME',
    ...[...formulas, markup].map((name, i) => `${ids[i]};CERTIFICATES;;${name}`),
  ].join('\n');
  const posts = watchPosts(page, BULK_POSTS);
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await chooseCsv(page, 'formulas.csv', csv);
  await expect(counts(page)).toHaveText([
    '5 rows', '5 valid', '0 with errors', '4 warnings', '5 certificate devices', '0 password devices',
  ]);
  for (const [i, formula] of formulas.entries()) {
    const shown = line(page, i + 2);
    await expect(shown).toHaveClass(/warned/);
    await expect(shown.locator('.problem')).toHaveText([
      `NAME: '${formula}' starts with '${formula[0]}': a spreadsheet would run it as a formula`,
    ]);
    await expect(shown.locator('td.formula')).toHaveText(`ƒx${formula}`);
    await expect(shown.getByRole('img', { name: 'Formula' })).toBeVisible();
  }
  await expect(line(page, 6)).not.toHaveClass(/warned|invalid/);
  await expect(line(page, 6)).toContainText(markup);
  await expectNoMarkup(page);

  // Warnings do not block: the file is sent as it is and every row registered.
  await page.getByRole('button', { name: 'Register 5 devices' }).click();
  await expect(page.getByRole('region', { name: 'Registration result' })).toContainText('All 5 rows registered as new devices.');
  expect(posts).toHaveLength(1);
  const res = await request.get(`/inventory/managedObjects?text=${encodeURIComponent(ids[0])}`, {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
  });
  expect(res.status()).toBe(200);
  expect((await res.json()).managedObjects.map((m: { name: string }) => m.name)).toEqual([formulas[0]]);

  // The devices page lists the markup name as text.
  await navigate(page, 'Devices');
  await page.getByLabel('Search devices').fill(ids[4]);
  const rows = page.locator('table.devices tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows).toContainText(markup);
  await expectNoMarkup(page);
});

// ---- Found on the way ------------------------------------------------------------------------

test('a CA made after the dialog was opened is checked against the time it is given, not the time the dialog opened', async ({ page }) => {
  await openConsole(page);
  const dialog = await openAddDialog(page);
  // Made once the clock is past the second the dialog opened in (as when the admin makes the CA
  // in a terminal meanwhile): valid from the second it was made, so valid when it is pasted.
  const opened = Math.floor(Date.now() / 1000);
  await expect.poll(() => Math.floor(Date.now() / 1000)).toBeGreaterThan(opened);
  const late = makeCertificate('E2E Hostile Late CA', { ca: true });
  await dialog.getByLabel('Paste PEM').fill(late.pem);
  const pasted = card(dialog, 'Pasted PEM');
  // Today: "Within its validity period: it is not valid before …" (the dialog's clock stopped
  // when it opened: add_dialog.rs reads the time once).
  await expect(pasted.locator('li[data-passed="false"]')).toHaveText([]);
  await expect(pasted.locator('li[data-passed="true"]')).toHaveCount(6);
  await expect(dialog.getByRole('button', { name: 'Add certificate' })).toBeEnabled();
});
