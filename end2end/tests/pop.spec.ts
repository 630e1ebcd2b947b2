// Proof of possession in the console against the real server: a CA made by openssl in the test
// (its key kept), added through the dialog; its details give the verification code (downloaded
// as a file) and the openssl line to sign it, which the test runs; the signature pasted or
// uploaded is verified, and the list shows the CA as proven, also after a reload.
import { execFileSync, execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page, expect, test } from '@playwright/test';
import { openConsole, reloadPage, row, unique } from './support';

/** A self-signed EC P-256 CA made by openssl, with its key, in a fresh temporary directory. */
function makeCa(label: string): { name: string; dir: string; pemPath: string; keyPath: string } {
  const name = `${label} ${unique()}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-pop-'));
  const pemPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'private.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyPath, '-out', pemPath, '-days', '30',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:true',
  ], { stdio: 'pipe' });
  return { name, dir, pemPath, keyPath };
}

/** Adds the CA at `pemPath` through the "Add trusted certificate" dialog. */
async function addThroughDialog(page: Page, pemPath: string): Promise<void> {
  await page.getByRole('button', { name: 'Add trusted certificate' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Certificate files').setInputFiles(pemPath);
  await dialog.getByRole('button', { name: 'Add certificate' }).click();
  await expect(dialog).toBeHidden();
}

/** The proof-of-possession column of the CA's row. */
function popCell(page: Page, name: string) {
  return row(page, name).locator('td[data-label="Proof of possession"]');
}

test('a CA is proven by signing its downloaded code with the openssl line shown, and the list says so', async ({ page }) => {
  const ca = makeCa('E2E PoP CA');
  await openConsole(page);
  await addThroughDialog(page, ca.pemPath);
  await expect(popCell(page, ca.name)).toHaveText('Incomplete');

  await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
  const details = page.locator('tr.details-row');
  await expect(details).toContainText('Proof of possession');
  await expect(details).toContainText('Incomplete');
  await details.getByRole('button', { name: 'Generate verification code' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Verification code regenerated.' })).toBeVisible();
  const codeBox = details.getByLabel('Verification code', { exact: true });
  await expect(codeBox).toHaveValue(/^[A-Za-z0-9+/]{128}$/);
  const code = await codeBox.inputValue();
  await expect(details).toContainText('Verification code expires on');

  // The code as a file: `<name>.txt`, the code's exact bytes (no trailing newline).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    details.getByRole('link', { name: 'Download code' }).click(),
  ]);
  const fileName = download.suggestedFilename();
  expect(fileName).toMatch(/^E2E_PoP_CA_.*\.txt$/);
  await download.saveAs(path.join(ca.dir, fileName));
  expect(fs.readFileSync(path.join(ca.dir, fileName), 'utf8')).toBe(code);

  // The line shown for an EC key, run as it is where the key and the downloaded file are.
  const command = await details.getByLabel('Sign it with openssl').inputValue();
  expect(command).toBe(`openssl dgst -sha256 -sign private.key ${fileName} | openssl base64 -A`);
  const signature = execSync(command, { cwd: ca.dir, encoding: 'utf8', shell: '/bin/sh' });

  // Pasted as a terminal gives it, with a line break after it.
  await details.getByLabel('Signed verification code').fill(`${signature}\n`);
  const verified = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/pop'));
  await details.getByRole('button', { name: 'Verify' }).click();
  expect((await verified).status()).toBe(200);
  await expect(page.getByRole('status').filter({ hasText: 'Signed verification code verified.' })).toBeVisible();
  await expect(details).toContainText("Complete: possession of this certificate's private key was proven.");
  await expect(popCell(page, ca.name)).toHaveText('Complete');

  await reloadPage(page);
  await expect(popCell(page, ca.name)).toHaveText('Complete');
});

test('a wrong signature shows the server\'s message; an uploaded raw signature file proves possession', async ({ page }) => {
  const ca = makeCa('E2E PoP Upload CA');
  const other = makeCa('E2E PoP Other CA');
  await openConsole(page);
  await addThroughDialog(page, ca.pemPath);
  await page.getByRole('button', { name: `Details of ${ca.name}` }).click();
  const details = page.locator('tr.details-row');
  await details.getByRole('button', { name: 'Generate verification code' }).click();
  const codeBox = details.getByLabel('Verification code', { exact: true });
  await expect(codeBox).toHaveValue(/^[A-Za-z0-9+/]{128}$/);
  const codeFile = path.join(ca.dir, 'code.txt');
  fs.writeFileSync(codeFile, await codeBox.inputValue());

  // Signed with another key: the platform's message, and still incomplete.
  const wrong = execFileSync('openssl', ['dgst', '-sha256', '-sign', other.keyPath, codeFile]);
  await details.getByLabel('Signed verification code').fill(wrong.toString('base64'));
  await details.getByRole('button', { name: 'Verify' }).click();
  await expect(details.locator('.pop [role="alert"]')).toContainText(
    /^Wrong proof of possession verification code used for tenant \S+\. Certificate [0-9a-f]{40}, usage not granted\.$/,
  );
  await expect(popCell(page, ca.name)).toHaveText('Incomplete');

  // Text that is not base64 is refused here, before anything is sent.
  let posts = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/pop')) posts += 1;
  });
  await details.getByLabel('Signed verification code').fill('not a signature!');
  await details.getByRole('button', { name: 'Verify' }).click();
  await expect(details.locator('.pop [role="alert"]')).toContainText('is not base64');
  expect(posts).toBe(0);

  // The raw signature (openssl dgst -sign -out, no base64) uploaded as a file.
  const sigPath = path.join(ca.dir, 'signature.bin');
  execFileSync('openssl', ['dgst', '-sha256', '-sign', ca.keyPath, '-out', sigPath, codeFile]);
  await details.getByLabel('…or upload the signature file').setInputFiles(sigPath);
  await expect(details.getByLabel('Signed verification code')).toHaveValue(fs.readFileSync(sigPath).toString('base64'));
  await details.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Signed verification code verified.' })).toBeVisible();
  await expect(popCell(page, ca.name)).toHaveText('Complete');
});
