// Starts the real anchorage binary for one test run: a free port, a fresh temporary data
// directory and a known admin password. Exports the URL and the password (and the device
// listener's URL and the local CA that signs its certificate) to the tests through the
// environment, and returns the teardown that stops the server and removes the directory.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ASSETS, BIN, freePort } from './tests/servers';

/** The admin password of the test server (a throwaway value for a throwaway database). */
export const ADMIN_PASSWORD = 'e2e-admin-password';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const [bin, assets] = [BIN, ASSETS];
  if (!fs.existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run \`cargo build -p anchorage-server\` or set ANCHORAGE_BIN`);
  }
  if (!fs.existsSync(path.join(assets, 'pkg/anchorage_app_bg.wasm'))) {
    throw new Error(`no built console in ${assets}: run scripts/build-app.sh`);
  }

  const port = await freePort();
  const devicePort = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-'));
  const baseURL = `http://127.0.0.1:${port}`;
  let output = '';
  const server = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--assets-dir', assets], {
    env: {
      ...process.env,
      ANCHORAGE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ANCHORAGE_DEVICE_LISTEN: `127.0.0.1:${devicePort}`,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (d) => (output += d));
  server.stderr?.on('data', (d) => (output += d));
  let exited: number | null | undefined;
  server.on('exit', (code) => (exited = code));

  // Up when the API answers; 401 without credentials is the expected answer.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`anchorage exited with ${exited} before answering:\n${output}`);
    }
    try {
      const res = await fetch(`${baseURL}/tenant/currentTenant`);
      if (res.status === 401 || res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      server.kill('SIGKILL');
      throw new Error(`anchorage did not answer on ${baseURL} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  process.env.E2E_BASE_URL = baseURL;
  process.env.E2E_ADMIN_PASSWORD = ADMIN_PASSWORD;
  // The device listener (mutual TLS) and the local CA that signs its server certificate
  // (made at start-up, as no --tls-cert is given).
  process.env.E2E_DEVICE_URL = `https://127.0.0.1:${devicePort}`;
  process.env.E2E_DEVICE_TLS_CA = path.join(dataDir, 'tls', 'ca.pem');

  return async () => {
    if (exited === undefined) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      if (exited === undefined) server.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
