// The browser client of the workbook: log in, get a PostObject policy, post the file straight to OSS
// with a progress bar, show the callback reply, list the user's files with signed download links.
// Plain JS, no build step, no external URLs. The bearer token lives only in this page's memory.
"use strict";

(function () {
  const state = { token: null, username: null };
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ display helpers

  function mask(value) {
    // Show enough to recognise a value, never enough to use it.
    const s = String(value || "");
    if (s.length <= 8) return "****";
    return s.slice(0, 4) + "…" + "(" + s.length + " chars)";
  }

  const SECRET_FIELDS = new Set(["x-oss-security-token", "x-oss-signature", "signature", "policy",
    "x-oss-credential", "ossaccesskeyid", "callback"]);

  function showError(title, code, message, requestId) {
    $("error-title").textContent = title;
    $("error-code").textContent = code ? "[" + code + "]" : "";
    $("error-message").textContent = message || "";
    $("error-request-id").textContent = requestId ? "RequestId " + requestId : "";
    $("error").hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
  }

  function formatSize(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function setProgress(pct) {
    $("progress").value = pct;
    $("progress-text").textContent = pct + "%";
  }

  // An OSS error body: <Error><Code/><Message/><RequestId/>...</Error>.
  function parseOssError(text) {
    try {
      const doc = new DOMParser().parseFromString(text || "", "application/xml");
      if (doc.getElementsByTagName("parsererror").length) return null;
      const pick = (tag) => {
        const el = doc.getElementsByTagName(tag)[0];
        return el ? el.textContent : "";
      };
      const code = pick("Code");
      return code ? { code: code, message: pick("Message"), requestId: pick("RequestId") } : null;
    } catch (e) {
      return null;
    }
  }

  // The app server answers errors as {"detail": "..."} or {"detail": [{loc, msg}, ...]}.
  function apiDetail(body, status) {
    const d = body && body.detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.map((e) => (e.loc || []).join(".") + ": " + e.msg).join("; ");
    return "HTTP " + status;
  }

  // ------------------------------------------------------------------ app server API

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const r = await fetch(path, { method: method, headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body) });
    let doc = null;
    try {
      doc = await r.json();
    } catch (e) {
      doc = null;
    }
    if (!r.ok) {
      const err = new Error(apiDetail(doc, r.status));
      err.status = r.status;
      throw err;
    }
    return doc;
  }

  function apiError(what, err) {
    showError(what + " failed", err.status ? "HTTP " + err.status : "", err.message);
    if (err.status === 401 && state.token) logout();
  }

  // ------------------------------------------------------------------ login

  async function login(event) {
    event.preventDefault();
    clearError();
    const username = $("username").value.trim();
    const password = $("password").value;
    $("login-button").disabled = true;
    try {
      const doc = await api("POST", "/api/login", { username: username, password: password });
      state.token = doc.access_token;
      state.username = username;
      $("password").value = "";
      $("whoami").textContent = username;
      $("token-masked").textContent = mask(doc.access_token);
      $("token-expires").textContent = String(doc.expires_in);
      $("login-form").hidden = true;
      $("session").hidden = false;
      $("upload-section").hidden = false;
      $("files-section").hidden = false;
      document.body.dataset.user = username;
      await refreshFiles();
    } catch (err) {
      apiError("Login", err);
    } finally {
      $("login-button").disabled = false;
    }
  }

  function logout() {
    state.token = null;
    state.username = null;
    delete document.body.dataset.user;
    $("login-form").hidden = false;
    $("session").hidden = true;
    $("upload-section").hidden = true;
    $("files-section").hidden = true;
    $("file-list").replaceChildren();
    $("callback-reply").textContent = "(no upload yet)";
    setProgress(0);
  }

  // ------------------------------------------------------------------ upload

  function showFields(fields) {
    const rows = Object.entries(fields).map(([name, value]) => {
      const tr = document.createElement("tr");
      const k = document.createElement("th");
      const v = document.createElement("td");
      k.textContent = name;
      v.textContent = SECRET_FIELDS.has(name.toLowerCase()) ? mask(value) : value;
      tr.append(k, v);
      return tr;
    });
    $("policy-fields").tBodies[0].replaceChildren(...rows);
  }

  // XMLHttpRequest, not fetch: fetch has no upload progress events.
  function postForm(url, fields, file, onProgress) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      // PostObject wants the policy fields first, in order, and the file last.
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(Math.floor((e.loaded / e.total) * 100));
      };
      xhr.onload = () => resolve(xhr);
      xhr.onerror = () => reject(new Error("network error: OSS did not answer, or its CORS rule refused "
        + "this origin (" + window.location.origin + ")"));
      xhr.send(form);
    });
  }

  async function upload() {
    clearError();
    const file = $("file").files[0];
    if (!file) {
      showError("Upload", "", "Pick a file first.");
      return;
    }
    $("upload-button").disabled = true;
    setProgress(0);
    $("callback-reply").textContent = "(waiting for OSS)";
    document.body.dataset.uploadState = "running";
    try {
      $("upload-status").textContent = "Asking the app server for a post policy…";
      const policy = await api("POST", "/api/post-policy", {
        key: file.name, content_type: file.type || "application/octet-stream", callback: true });
      showFields(policy.fields);
      $("upload-status").textContent = "Uploading " + file.name + " (" + formatSize(file.size)
        + ") to " + policy.url + " …";
      const xhr = await postForm(policy.url, policy.fields, file, setProgress);
      const requestId = xhr.getResponseHeader("x-oss-request-id") || "";
      if (xhr.status === 200) {
        setProgress(100);
        let reply = xhr.responseText;
        try {
          reply = JSON.stringify(JSON.parse(reply), null, 2);
        } catch (e) {
          // not JSON: show it as it came
        }
        $("callback-reply").textContent = reply;
        $("upload-status").textContent = "Uploaded " + policy.key + " · HTTP 200 · RequestId " + requestId;
        document.body.dataset.uploadState = "done";
        await refreshFiles();
      } else {
        // 203 CallbackFailed: the object is stored but the callback failed; others are refusals.
        const e = parseOssError(xhr.responseText);
        $("callback-reply").textContent = "(no callback reply)";
        $("upload-status").textContent = "OSS answered HTTP " + xhr.status;
        showError("OSS refused the upload (HTTP " + xhr.status + ")", e ? e.code : "",
          e ? e.message : xhr.responseText.slice(0, 300), e ? e.requestId : requestId);
        document.body.dataset.uploadState = "failed";
      }
    } catch (err) {
      document.body.dataset.uploadState = "failed";
      $("callback-reply").textContent = "(no callback reply)";
      $("upload-status").textContent = "Upload failed.";
      if (err.status) apiError("Post policy", err);
      else showError("Upload failed", "", err.message);
    } finally {
      $("upload-button").disabled = !$("file").files.length;
    }
  }

  // ------------------------------------------------------------------ my files

  function baseName(key) {
    return key.slice(key.lastIndexOf("/") + 1);
  }

  const DELETED = "This file was deleted from OSS after it was uploaded: the app server's record "
    + "remains, the object does not.";

  function markMissing(tr, link) {
    tr.classList.add("missing");
    tr.dataset.exists = "false";
    link.removeAttribute("href");
    link.title = "deleted from OSS";
    const note = link.parentNode && link.parentNode.querySelector(".missing-note");
    if (note) note.hidden = false;
  }

  // A click fetches the signed URL first (the bucket's CORS rule allows this page's origin): a 404
  // becomes a readable message instead of OSS's NoSuchKey XML; a 200 is dropped after its headers
  // (nothing buffered) and the browser then downloads the file the usual way.
  async function openLink(event, tr, link) {
    event.preventDefault();
    clearError();
    if (!link.href) {
      showError("Download", "NoSuchKey", DELETED);
      return;
    }
    let r;
    try {
      r = await fetch(link.href);
    } catch (err) {
      showError("Download failed", "", "OSS did not answer (" + err.message + ")");
      return;
    }
    if (r.ok) {
      if (r.body) r.body.cancel();
      const a = document.createElement("a");
      a.href = link.href;
      a.download = baseName(link.dataset.key);
      document.body.append(a);
      a.click();
      a.remove();
      return;
    }
    const e = parseOssError(await r.text());
    if (r.status === 404) {
      markMissing(tr, link);
      showError("Download", e ? e.code : "HTTP 404", DELETED, e ? e.requestId : "");
    } else {
      showError("OSS refused the download (HTTP " + r.status + ")", e ? e.code : "",
        e ? e.message : "", e ? e.requestId : "");
    }
  }

  async function fileRow(item) {
    const tr = document.createElement("tr");
    tr.className = "file-row";
    tr.dataset.key = item.key;
    const name = document.createElement("td");
    const link = document.createElement("a");
    link.className = "download-link";
    link.textContent = item.key;  // the whole key: the folder is part of what the app stored
    link.dataset.key = item.key;
    link.addEventListener("click", (event) => openLink(event, tr, link));
    const note = document.createElement("span");
    note.className = "missing-note";
    note.textContent = " (deleted from OSS)";
    note.hidden = true;
    if (item.exists === false) {
      name.append(link, note);
      markMissing(tr, link);
    } else {
      if (item.exists === true) tr.dataset.exists = "true";
      try {
        const signed = await api("POST", "/api/signed-url",
          { method: "GET", key: item.key, download_name: baseName(item.key) });
        link.href = signed.url;
        link.title = "signed GET URL, expires " + signed.expires_at;
      } catch (err) {
        link.removeAttribute("href");
        link.title = "no signed URL: " + err.message;
      }
      name.append(link, note);
    }
    const size = document.createElement("td");
    size.textContent = formatSize(item.size);
    const type = document.createElement("td");
    type.textContent = item.mime_type;
    const when = document.createElement("td");
    when.textContent = new Date(item.created_at * 1000).toLocaleString();
    tr.append(name, size, type, when);
    return tr;
  }

  async function refreshFiles() {
    if (!state.token) return;
    $("files-status").textContent = "Loading…";
    try {
      // check=true: the app server asks OSS (HeadObject, your download-scope STS) which still exist.
      const items = await api("GET", "/api/uploads?check=true");
      const rows = await Promise.all(items.map(fileRow));
      $("file-list").replaceChildren(...rows);
      const gone = items.filter((i) => i.exists === false).length;
      $("files-status").textContent = items.length + (items.length === 1 ? " file" : " files")
        + (gone ? " (" + gone + " deleted from OSS)" : "");
    } catch (err) {
      $("files-status").textContent = "";
      apiError("Listing your files", err);
    }
  }

  // ------------------------------------------------------------------ wiring

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", login);
    $("logout-button").addEventListener("click", logout);
    $("file").addEventListener("change", () => {
      $("upload-button").disabled = !$("file").files.length;
      setProgress(0);
      const f = $("file").files[0];
      $("upload-status").textContent = f ? f.name + " · " + formatSize(f.size) : "Pick a file.";
    });
    $("upload-button").addEventListener("click", upload);
    $("refresh-files").addEventListener("click", refreshFiles);
    document.body.dataset.ready = "1";
  });

  // What sdk_upload.js (the ali-oss path) shares with this page: one API client, one error box.
  window.workbookPage = { api: api, apiError: apiError, showError: showError, clearError: clearError,
    mask: mask, formatSize: formatSize, parseOssError: parseOssError };
})();
