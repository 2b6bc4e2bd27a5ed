/**
 * A loopback HTTP server that behaves like the hosts the kit downloads from (tensorflow/tfjs#8595,
 * tensorflow/hub#889/#904/#931/#933): a hub handle that redirects to a models site, which redirects to a signed
 * storage URL (query parameters X-Goog-*; a wrong or missing signature is a 403 SignatureDoesNotMatch, an unknown
 * object a 404), a plain public bucket, a host that answers 403, one that stalls, one that cuts bodies short.
 * Bodies honour Range requests (206 + Content-Range). Only 127.0.0.1 is ever contacted.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';

/** How one file misbehaves (each counter is used up one request at a time). */
export interface Misbehaviour {
  /** Send this many bytes of the next responses, then cut the connection (one entry per request). */
  cutAfter?: number[];
  /** Always send only the first n bytes and end the body cleanly without a Content-Length (a truncated file). */
  truncateTo?: number;
  /** Send the headers, then nothing (a stalled transfer). */
  stall?: boolean;
}

/** The fake internet: files by path, and a log of every request. */
export class FakeHosts {
  readonly files = new Map<string, Buffer>();
  readonly misbehave = new Map<string, Misbehaviour>();
  /** Paths (with query) and Range headers of every request, in order. */
  readonly requests: Array<{ url: string; range?: string }> = [];
  /** Prefixes answered with a plain 403 (an access rule, as Kaggle's storage did in Oct 2025). */
  readonly forbidden = new Set<string>();
  base = '';
  private server?: http.Server;
  private readonly secret = crypto.randomBytes(8).toString('hex');

  /** The signature the storage host expects for an object path. */
  sign(objectPath: string): string {
    return crypto.createHmac('sha256', this.secret).update(objectPath).digest('hex');
  }

  /** A signed storage URL of an object, as the models site hands out (valid only for that object). */
  signedUrl(objectPath: string): string {
    return `${this.base}/storage${objectPath}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=20251018T133046Z&X-Goog-Expires=259200&X-Goog-SignedHeaders=host&X-Goog-Signature=${this.sign(objectPath)}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    this.requests.push({ url: url.pathname + url.search, range: req.headers.range });
    const p = url.pathname;
    for (const prefix of this.forbidden) if (p.startsWith(prefix)) return void res.writeHead(403, 'Forbidden').end('<Error><Code>AccessDenied</Code></Error>');
    if (p.startsWith('/hub/')) {
      // tfhub.dev → the models site (keeps the asset path, adds its marker), as the TF Hub migration does
      return void res.writeHead(302, { Location: `/models/${p.slice('/hub/'.length)}?tfhub-redirect=true` }).end();
    }
    if (p.startsWith('/models/')) {
      // the models site → a signed URL on storage, one signature per object
      return void res.writeHead(302, { Location: this.signedUrl(`/${p.slice('/models/'.length)}`) }).end();
    }
    if (p.startsWith('/storage/')) {
      const object = p.slice('/storage'.length);
      if (url.searchParams.get('X-Goog-Signature') !== this.sign(object)) {
        return void res.writeHead(403, 'Forbidden').end("<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code><Message>Access denied.</Message></Error>");
      }
      return this.serve(object, req, res);
    }
    if (p.startsWith('/moved/')) return void res.writeHead(301, { Location: `/bucket/${p.slice('/moved/'.length)}` }).end();
    if (p.startsWith('/bucket/')) return this.serve(p.slice('/bucket'.length), req, res);
    res.writeHead(404, 'Not Found').end();
  }

  private serve(object: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const body = this.files.get(object);
    if (!body) return void res.writeHead(404, 'Not Found').end('<Error><Code>NoSuchKey</Code></Error>');
    const bad = this.misbehave.get(object) ?? {};
    if (bad.truncateTo !== undefined) return void res.writeHead(200).end(body.subarray(0, bad.truncateTo));
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (m && start >= body.length) return void res.writeHead(416).end();
    res.writeHead(m ? 206 : 200, {
      'Content-Length': body.length - start,
      'Content-Type': object.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (bad.stall) return void res.flushHeaders();
    const cut = bad.cutAfter?.shift();
    if (cut === undefined) return void res.end(body.subarray(start));
    res.write(body.subarray(start, start + cut));
    setTimeout(() => res.destroy(), 20);
  }
}

/** A closed loopback port: connecting to it is refused at once (what "offline" looks like to the kit). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
