// gitfaas node20 runtime: serves the OpenFaaS node20 handler signature
//   module.exports = async (event, context) => { ... }
// with event {body, headers, method, query, path} and context.status()/headers()/
// succeed()/fail(), as the OpenFaaS template does, using only Node's standard library.
'use strict';
const http = require('node:http');
const handler = require('./function/handler');

const PORT = Number(process.env.PORT || 8080);
const MAX_BODY = parseSize(process.env.MAX_RAW_SIZE || '100kb');
const RAW_BODY = process.env.RAW_BODY === 'true';

function parseSize(text) {
  const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(String(text).trim());
  if (!m) return 100 * 1024;
  return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] || 'b').toLowerCase()];
}

class FunctionEvent {
  constructor(req, body, url) {
    this.body = body;
    this.headers = req.headers;
    this.method = req.method;
    this.query = Object.fromEntries(url.searchParams);
    this.path = url.pathname;
  }
}

class FunctionContext {
  constructor(cb) {
    this.statusCode = 200;
    this.cb = cb;
    this.headerValues = {};
    this.cbCalled = 0;
  }
  status(statusCode) {
    if (!statusCode) return this.statusCode;
    this.statusCode = statusCode;
    return this;
  }
  headers(value) {
    if (!value) return this.headerValues;
    this.headerValues = value;
    return this;
  }
  succeed(value) {
    this.cbCalled++;
    this.cb(undefined, value);
  }
  fail(value) {
    this.cbCalled++;
    this.cb(value, undefined);
  }
}

function parseBody(req, raw) {
  if (RAW_BODY) return raw;
  const type = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (raw.length === 0) return type === 'application/json' ? {} : raw.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) return JSON.parse(raw.toString('utf8'));
  if (type.startsWith('text/') || type === '') return raw.toString('utf8');
  return raw;
}

function send(res, status, headers, body) {
  if (res.headersSent) return;
  const out = { ...headers };
  let payload = body;
  if (payload === undefined || payload === null) payload = '';
  else if (Buffer.isBuffer(payload)) out['content-type'] ??= 'application/octet-stream';
  else if (typeof payload === 'object') {
    payload = JSON.stringify(payload);
    if (!Object.keys(out).some((k) => k.toLowerCase() === 'content-type')) out['content-type'] = 'application/json; charset=utf-8';
  } else payload = String(payload);
  if (!Object.keys(out).some((k) => k.toLowerCase() === 'content-type')) out['content-type'] = 'text/html; charset=utf-8';
  res.writeHead(status, out);
  res.end(payload);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url || '/', 'http://localhost');
  if (url.pathname === '/_/health') return send(res, 200, {}, 'OK');
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      send(res, 413, {}, 'request body too large');
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    let body;
    try {
      body = parseBody(req, Buffer.concat(chunks));
    } catch (err) {
      return send(res, 400, {}, `invalid request body: ${err.message}`);
    }
    const cb = (err, result) => {
      if (err) {
        console.error(err);
        return send(res, 500, {}, err.toString ? err.toString() : String(err));
      }
      send(res, fnContext.status(), fnContext.headers(), result);
    };
    const fnContext = new FunctionContext(cb);
    Promise.resolve()
      .then(() => handler(new FunctionEvent(req, body, url), fnContext, cb))
      .then((result) => {
        if (!fnContext.cbCalled) fnContext.succeed(result);
      })
      .catch((e) => cb(e));
  });
});

server.listen(PORT, '0.0.0.0', () => console.log(`node20 function listening on port ${PORT}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
