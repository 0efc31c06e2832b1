// ali-oss (the official Node SDK) against the local cloud with its DEFAULT options, apart from
// what any caller sets: endpoint, region, bucket, credentials and (for V4) `authorizationV4: true`.
// With an IP endpoint ali-oss sends the bucket only in `Host: <bucket>.<region>.aliyuncs.com`.
//
// Input: one JSON argument {endpoint, region, bucket, accessKeyId, accessKeySecret, stsToken?,
// authorizationV4, prefix, file, partSize}. Output: one JSON line on stdout describing what the SDK
// saw; the Python test checks the stored bytes through oss2. An SDK error is printed as JSON
// {error: {name, code, status, requestId, hostId}} and exits 1. No secret is printed.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const OSS = require("ali-oss");

const md5 = (buf) => crypto.createHash("md5").update(buf).digest("hex");

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const options = {
    endpoint: cfg.endpoint,
    region: cfg.region,
    bucket: cfg.bucket,
    accessKeyId: cfg.accessKeyId,
    accessKeySecret: cfg.accessKeySecret,
  };
  if (cfg.stsToken) options.stsToken = cfg.stsToken;
  if (cfg.authorizationV4) options.authorizationV4 = true;
  const client = new OSS(options);
  const out = {};

  const small = Buffer.from("hello from ali-oss " + (cfg.authorizationV4 ? "v4" : "v1") + "\n");
  const put = await client.put(cfg.prefix + "small.txt", small);
  out.put = { name: put.name, status: put.res.status, etag: put.res.headers.etag };

  const got = await client.get(cfg.prefix + "small.txt");
  out.get = { status: got.res.status, md5: md5(got.content), size: got.content.length };

  const progress = [];
  const mp = await client.multipartUpload(cfg.prefix + "multi.bin", cfg.file, {
    partSize: cfg.partSize,
    progress: (p) => { progress.push(p); },
  });
  out.multipart = { name: mp.name, status: mp.res.status, etag: mp.etag || mp.res.headers.etag, progress };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: {
    name: err.name, code: err.code, status: err.status, requestId: err.requestId, hostId: err.hostId,
    message: String(err.message).slice(0, 300) } }) + "\n");
  process.exit(1);
});
