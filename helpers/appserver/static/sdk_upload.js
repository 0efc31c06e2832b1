// The ali-oss path of the upload page: the official browser SDK (window.OSS, served from
// /static/vendor/ali-oss/) uploads the picked file in parts with STS credentials from the app server.
// Plain JS, no build step, no external URLs. Credentials live only in this page's memory.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const PART_SIZE = 1024 * 1024;
  // ali-oss refreshes on a timer (refreshSTSTokenInterval after the last refresh), not when a request
  // is refused: ask for new credentials this long before the current ones expire.
  const REFRESH_MARGIN_MS = 5 * 60 * 1000;
  const stats = { fetched: 0, refreshed: 0 };

  function setProgress(pct) {
    $("sdk-progress").value = pct;
    $("sdk-progress-text").textContent = pct + "%";
  }

  // GET /api/sts?scope=upload with the page's bearer login: the mobile SDKs' credential answer
  // (AccessKeyId, AccessKeySecret, SecurityToken, Expiration) plus Bucket, Region, Endpoint, Prefix.
  async function fetchSts() {
    const doc = await window.workbookPage.api("GET", "/api/sts?scope=upload");
    stats.fetched += 1;
    $("sdk-sts-count").textContent = String(stats.fetched);
    $("sdk-key-masked").textContent = window.workbookPage.mask(doc.AccessKeyId);
    $("sdk-expiration").textContent = doc.Expiration;
    return doc;
  }

  // A browser cannot set the Host header, so an IP endpoint (the local cloud's 127.0.0.1:PORT) becomes
  // localhost:PORT, same scheme: ali-oss then puts the bucket in front of the host (<bucket>.localhost:PORT
  // with the path /<key>, lib/common/client/getReqUrl.js), and browsers resolve *.localhost to loopback.
  // A real endpoint (oss-cn-hangzhou.aliyuncs.com over https) is kept as it is.
  function browserEndpoint(endpoint) {
    const u = new URL(endpoint);
    if (u.hostname === "127.0.0.1" || u.hostname === "[::1]") u.hostname = "localhost";
    return u.origin;
  }

  function refreshIntervalMs(expiration) {
    return Math.max(1000, Date.parse(expiration) - Date.now() - REFRESH_MARGIN_MS);
  }

  function clientFor(creds) {
    const endpoint = browserEndpoint(creds.Endpoint);
    return new window.OSS({
      endpoint: endpoint,
      region: creds.Region.startsWith("oss-") ? creds.Region : "oss-" + creds.Region,
      bucket: creds.Bucket,
      secure: endpoint.startsWith("https:"),
      accessKeyId: creds.AccessKeyId,
      accessKeySecret: creds.AccessKeySecret,
      stsToken: creds.SecurityToken,
      authorizationV4: true,
      refreshSTSToken: async () => {
        stats.refreshed += 1;
        $("sdk-refresh-count").textContent = String(stats.refreshed);
        const fresh = await fetchSts();
        return { accessKeyId: fresh.AccessKeyId, accessKeySecret: fresh.AccessKeySecret,
          stsToken: fresh.SecurityToken };
      },
      refreshSTSTokenInterval: refreshIntervalMs(creds.Expiration),
    });
  }

  function folderOf(creds) {
    const typed = $("sdk-folder").value.trim().replace(/^\/+/, "");
    if (!typed) return creds.Prefix;
    return typed.endsWith("/") ? typed : typed + "/";
  }

  async function upload() {
    const page = window.workbookPage;
    page.clearError();
    const file = $("file").files[0];
    if (!file) {
      page.showError("Upload", "", "Pick a file first.");
      return;
    }
    $("sdk-upload-button").disabled = true;
    setProgress(0);
    document.body.dataset.sdkState = "running";
    try {
      $("sdk-status").textContent = "Asking the app server for STS credentials…";
      const creds = await fetchSts();
      const key = folderOf(creds) + file.name;
      $("sdk-status").textContent = "Uploading " + file.name + " (" + page.formatSize(file.size) + ") to "
        + key + " with ali-oss…";
      const result = await clientFor(creds).multipartUpload(key, file, {
        partSize: PART_SIZE,
        // One part at a time: parallel parts only share the same uplink, the bar moves part by part,
        // and credentials refreshed between parts sign every later part.
        parallel: 1,
        mime: file.type || "application/octet-stream",
        progress: (p) => setProgress(Math.floor(p * 100)),
      });
      setProgress(100);
      const res = result.res || {};
      const headers = res.headers || {};
      $("sdk-status").textContent = "Uploaded " + result.name + " · HTTP " + res.status + " · ETag "
        + (headers.etag || result.etag || "") + " · RequestId " + (headers["x-oss-request-id"] || "");
      document.body.dataset.sdkState = "done";
    } catch (err) {
      document.body.dataset.sdkState = "failed";
      $("sdk-status").textContent = "Upload failed.";
      if (err.code) {
        // An OSS refusal as ali-oss reports it: the XML's Code, Message, RequestId.
        page.showError("OSS refused the upload (HTTP " + err.status + ")", err.code, err.message,
          err.requestId);
      } else if (err.status) {
        page.apiError("STS credentials", err);   // the app server refused (e.g. 401: log in again)
      } else {
        page.showError("Upload failed", "", err.message || String(err));
      }
    } finally {
      $("sdk-upload-button").disabled = !$("file").files.length;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("file").addEventListener("change", () => {
      $("sdk-upload-button").disabled = !$("file").files.length || !window.OSS;
      setProgress(0);
    });
    $("sdk-upload-button").addEventListener("click", upload);
    $("logout-button").addEventListener("click", () => {
      // The next user starts clean: no progress, no counts, no credentials shown.
      setProgress(0);
      stats.fetched = 0;
      stats.refreshed = 0;
      $("sdk-sts-count").textContent = "0";
      $("sdk-refresh-count").textContent = "0";
      $("sdk-key-masked").textContent = "–";
      $("sdk-expiration").textContent = "–";
      $("sdk-status").textContent = "Pick a file above.";
      delete document.body.dataset.sdkState;
    });
  });
})();
