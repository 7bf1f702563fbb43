// The scale-out recipe, run: deploy/nginx.conf on loopback in front of two `llama-ts serve`
// replicas (the built CLI on the golden checkpoint). One replica is killed while both are
// streaming; the requests on the other complete, and new requests go to the survivor.
// nginx runs unprivileged: its own prefix, pid file, temp paths and error log in a temp dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goldenDir, REQUIRE_WEBGPU_ENV, webgpuRequired } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers.js';
import { http, post, waitFor } from './http-client.js';

const DEPLOY_CONF = fileURLToPath(new URL('../../../deploy/nginx.conf', import.meta.url));

function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs.map((dir) => join(dir, 'nginx')).find((path) => existsSync(path));
}

const NGINX = findNginx();
// As the WebGPU tests: skipped with a message on a machine without nginx, a failure in CI.
if (!NGINX && !webgpuRequired()) {
  console.warn(
    `Skipping the nginx scale-out test: nginx is not installed (scripts/setup installs it; ${REQUIRE_WEBGPU_ENV}=1 makes this an error).`,
  );
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Replica {
  child: ChildProcess;
  url: string;
  addr: string;
}

/** Starts the built CLI's `serve` on a free port; resolves with the address it prints. */
function startReplica(): Promise<Replica> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--ckpt-dir',
      goldenDir('tiny-meta-bf16'),
      '--backend',
      'cpu',
      '--max-seq-len',
      '512',
      '--port',
      '0',
      '--quiet',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`a replica printed no address: ${out}`)), 60_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const match = /http:\/\/(127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: `http://${match[1]}`, addr: match[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`a replica exited (code ${code}): ${out}`)));
  });
}

/** deploy/nginx.conf with the test's ports, inside a top-level config whose paths are all in `prefix`. */
async function nginxConfig(prefix: string, port: number, replicas: Replica[]): Promise<string> {
  let site = await readFile(DEPLOY_CONF, 'utf8');
  const swaps: [string, string][] = [
    ['listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`],
    ['server 127.0.0.1:8081 ', `server ${replicas[0]?.addr} `],
    ['server 127.0.0.1:8082 ', `server ${replicas[1]?.addr} `],
  ];
  for (const [from, to] of swaps) {
    expect(site, `deploy/nginx.conf has "${from}"`).toContain(from);
    site = site.replace(from, to);
  }
  await writeFile(join(prefix, 'llama-ts.conf'), site);
  const temp = (name: string) => join(prefix, name);
  return `
daemon off;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  include ${temp('llama-ts.conf')};
}
`;
}

interface Streamed {
  status: number;
  /** X-Upstream-Addr: the replica(s) nginx tried, the last one answering. */
  upstream?: string;
  body: string;
  done: boolean;
}

/** A streamed completion through nginx; `onHeaders` runs when its replica is known. */
function streamThrough(url: string, onHeaders: (upstream: string | undefined) => void): Promise<Streamed> {
  return new Promise((resolve) => {
    const result: Streamed = { status: 0, body: '', done: false };
    const req = request(
      `${url}/v1/completions`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' } },
      (res) => {
        result.status = res.statusCode ?? 0;
        result.upstream = res.headers['x-upstream-addr'] as string | undefined;
        onHeaders(result.upstream);
        res.setEncoding('utf8').on('data', (d: string) => {
          result.body += d;
        });
        res.on('end', () => {
          result.done = result.body.endsWith('data: [DONE]\n\n');
          resolve(result);
        });
        res.on('error', () => resolve(result));
      },
    );
    req.on('error', () => resolve(result));
    req.end(JSON.stringify({ prompt: '<1><2><3>', max_tokens: 200, temperature: 0, stream: true }));
  });
}

const lastAddr = (upstream: string | undefined) => upstream?.split(',').at(-1)?.trim();

describe.skipIf(!NGINX && !webgpuRequired())('deploy/nginx.conf: two replicas behind nginx', () => {
  let prefix: string;
  let replicas: Replica[] = [];
  let nginx: ChildProcess | undefined;
  let url: string;
  let nginxLog = '';

  beforeAll(async () => {
    if (!NGINX)
      throw new Error(`${REQUIRE_WEBGPU_ENV}=1 but nginx is not installed (scripts/setup installs nginx-light)`);
    prefix = await mkdtemp(join(tmpdir(), 'llama-ts-nginx-'));
    // Run as root, nginx's workers become an unprivileged user, which must reach the temp paths.
    await chmod(prefix, 0o755);
    replicas = await Promise.all([startReplica(), startReplica()]);
    const port = await freePort();
    const conf = join(prefix, 'nginx.conf');
    await writeFile(conf, await nginxConfig(prefix, port, replicas));
    nginx = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    nginx.stderr?.setEncoding('utf8').on('data', (d: string) => {
      nginxLog += d;
    });
    const exited = new Promise<never>((_, reject) =>
      nginx?.on('exit', (code) => reject(new Error(`nginx exited (code ${code}): ${nginxLog}`))),
    );
    url = `http://127.0.0.1:${port}`;
    await Promise.race([
      exited,
      waitFor(() => existsSync(join(prefix, 'nginx.pid'))).then(async () => {
        for (;;) {
          const reply = await http(`${url}/health`, 'GET').catch(() => undefined);
          if (reply?.status === 200) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    ]);
  });

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    for (const replica of replicas) replica.child.kill('SIGKILL');
    if (prefix) await rm(prefix, { recursive: true, force: true });
  });

  it('streams through unbuffered and spreads concurrent requests over both replicas (least_conn)', async () => {
    const seen = new Set<string>();
    const results = await Promise.all(Array.from({ length: 4 }, () => streamThrough(url, () => {})));
    for (const result of results) {
      expect(result.status).toBe(200);
      expect(result.done).toBe(true);
      seen.add(lastAddr(result.upstream) as string);
    }
    expect([...seen].sort()).toEqual(replicas.map((r) => r.addr).sort());
  });

  it('a replica killed under load: the requests on the other complete, new ones go to the survivor', async () => {
    const [victim, survivor] = replicas as [Replica, Replica];
    const streaming = new Set<string | undefined>();
    const load = Array.from({ length: 6 }, () => streamThrough(url, (upstream) => streaming.add(lastAddr(upstream))));
    // Kill once both replicas are streaming (headers come with the first token).
    await waitFor(() => streaming.has(victim.addr) && streaming.has(survivor.addr));
    victim.child.kill('SIGKILL');
    const results = await Promise.all(load);

    const onSurvivor = results.filter((r) => lastAddr(r.upstream) === survivor.addr);
    const cut = results.filter((r) => !r.done);
    expect(onSurvivor.length).toBeGreaterThan(0);
    for (const r of onSurvivor) {
      expect(r.status).toBe(200);
      expect(r.done).toBe(true); // every request that was not on the killed replica completes
    }
    expect(cut.length).toBeGreaterThan(0); // the victim's streams were cut
    for (const r of cut) expect(lastAddr(r.upstream) ?? victim.addr).toBe(victim.addr);

    for (let i = 0; i < 4; i++) {
      const reply = await post(`${url}/v1/completions`, { prompt: '<1><2><3>', max_tokens: 4, temperature: 0 });
      expect(reply.status).toBe(200);
      expect(lastAddr(reply.headers['x-upstream-addr'] as string)).toBe(survivor.addr);
    }
  });
});
