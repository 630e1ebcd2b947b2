// Extra anchorage processes for tests that need more than the one global-setup.ts starts (the
// proxy journey: a platform and a proxy in front of it). Each server keeps its ports and data
// directory across stop() and start(), so a test can take it down and bring it back; dispose()
// stops it and removes its directory. Tests call dispose() in afterAll, so nothing outlives them.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** The server binary and the built console, as global-setup.ts finds them. */
export const BIN = process.env.ANCHORAGE_BIN ?? path.join(root, 'target/debug/anchorage');
export const ASSETS = process.env.ANCHORAGE_ASSETS_DIR ?? path.join(root, 'target/site');
/** The device tool (`anchorage-device`). */
export const DEVICE_BIN = process.env.ANCHORAGE_DEVICE_BIN ?? path.join(root, 'target/debug/anchorage-device');

/** A port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerOptions {
  /** A name for error messages. */
  name: string;
  /** Flags besides --listen, --data-dir and --assets-dir. */
  args?: string[];
  /** Environment besides the runner's. */
  env?: Record<string, string>;
  /** The path whose answer (any status below 500) means the server is up. */
  readyPath: string;
}

/** One anchorage process on fixed ports with its own temporary data directory. */
export class Server {
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-extra-'));
  private child: ChildProcess | undefined;
  private exited: number | null | undefined;
  private log = '';

  private constructor(
    private readonly options: ServerOptions,
    readonly port: number,
  ) {}

  /** Picks a free port for the server (it is not started). */
  static async create(options: ServerOptions): Promise<Server> {
    return new Server(options, await freePort());
  }

  get baseURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the process printed, for failure messages. */
  get output(): string {
    return this.log;
  }

  /** Starts the process and waits until it answers `readyPath`. */
  async start(): Promise<void> {
    if (this.child && this.exited === undefined) throw new Error(`${this.options.name} is already running`);
    this.exited = undefined;
    const args = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir, '--assets-dir', ASSETS, ...(this.options.args ?? [])];
    const child = spawn(BIN, args, {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d) => (this.log += d));
    child.stderr?.on('data', (d) => (this.log += d));
    child.on('exit', (code) => (this.exited = code));

    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.exited !== undefined) {
        throw new Error(`${this.options.name} exited with ${this.exited} before answering:\n${this.log}`);
      }
      try {
        const res = await fetch(`${this.baseURL}${this.options.readyPath}`);
        if (res.status < 500) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.options.name} did not answer on ${this.baseURL} within 60 s:\n${this.log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the process (SIGTERM, SIGKILL after 5 s) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited !== undefined) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
    if (this.exited === undefined) {
      child.kill('SIGKILL');
      await gone;
    }
  }

  /** Stops the process and removes its data directory. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
