// The hostile suite's raw HTTP client (see rawRequest in hostile-service.ts), in a worker thread of its own.
import { connect } from 'node:net';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', ({ id, port, req }) => {
  rawRequest(port, req).then(
    (result) => parentPort.postMessage({ id, result }),
    (error) => parentPort.postMessage({ id, error: String(error?.message ?? error) }),
  );
});

function rawRequest(port, req) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = performance.now();
    // a large body is made here, not copied from the thread the service runs on
    const body = req.fill
      ? Buffer.concat([Buffer.from(req.fill.prefix ?? ''), Buffer.alloc(req.fill.length, req.fill.byte ?? 0x20), Buffer.from(req.fill.suffix ?? '')])
      : req.body
        ? Buffer.from(req.body)
        : Buffer.alloc(0);
    const length = req.contentLength ?? body.length;
    let received = Buffer.alloc(0);
    let answeredAt;
    let sent = 0;
    let finished = false;
    let closedEarly = false;
    const timer = setTimeout(() => finish(new Error(`no answer within ${req.timeoutMs ?? 30_000} ms`)), req.timeoutMs ?? 30_000);
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      if (error && answeredAt === undefined) return reject(error);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
        headers,
        body: split >= 0 ? Buffer.from(text.slice(split + 4), 'latin1').toString('utf8') : '',
        elapsedMs: Math.round((answeredAt ?? performance.now()) - started),
        bodyBytesSent: sent,
        closedEarly: closedEarly && answeredAt === undefined,
      });
    };
    socket.on('data', (chunk) => {
      answeredAt ??= performance.now();
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const m = /content-length:\s*(\d+)/i.exec(text.slice(0, split));
      if (split >= 0 && m && received.length >= split + 4 + Number(m[1])) finish();
    });
    socket.on('close', () => finish());
    // The service may answer and close while the body is still being sent (it does not read what it refuses):
    // the answer, when one came, is the result; else the reset lost it: status 0, closedEarly.
    socket.on('error', (e) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') return finish(e);
      closedEarly = answeredAt === undefined;
      setTimeout(() => finish(), 50);
    });
    socket.on('connect', async () => {
      const headerLines = Object.entries({ 'content-length': String(length), ...req.headers })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n');
      socket.write(req.head ?? `${req.method ?? 'POST'} ${req.target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headerLines}\r\n\r\n`, 'latin1');
      // 64 KiB steps at most: a client stops sending once it has its answer
      const step = req.chunkBytes ?? 65_536;
      for (let i = 0; i < body.length && !finished && answeredAt === undefined; i += step) {
        const chunk = body.subarray(i, i + step);
        const ok = socket.write(chunk);
        sent += chunk.length;
        if (req.everyMs) await new Promise((r) => setTimeout(r, req.everyMs));
        else if (!ok) await new Promise((r) => socket.once('drain', r));
      }
    });
  });
}
